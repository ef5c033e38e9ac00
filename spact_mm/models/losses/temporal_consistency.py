"""Temporal consistency of f_A: no motion that the input does not have (issue 12, remedy a)."""
from typing import Optional

import torch
import torch.nn as nn

from spact_mm.registry import MODELS


@MODELS.register_module()
class TemporalConsistencyLoss(nn.Module):
    """Penalty on the anonymized clip's frame differences exceeding the raw clip's.

    The demo's stage-3 f_A won the minimax game by a shortcut: it made the
    frames of one clip differ (a blob whose brightness tracks the person;
    temporal standard deviation outside the person box 4.8 grey levels
    against 1.2 on raw video, docs/results/screening_remedies.md), which fools
    the frame-pair contrastive f_B of Eq. 5 without removing appearance
    (issue 12). The penalty compares, pixel by pixel, the temporal
    differences of the output with those of the input:

        L_TC = lambda / (N (T-1) C H W) * sum_{n,t,c,h,w}
               max(0, |A_{t+1} - A_t| - |X_{t+1} - X_t| - m)^p

    with X the raw clip, A = f_A(X), both in [0, 1] pixel units, m >= 0 a
    margin and p in {1, 2}. Motion the input has (the action) is free; a
    still background must stay still. With ``symmetric=True`` the missing
    motion is penalised too (``max(0, |X_{t+1} - X_t| - |A_{t+1} - A_t| -
    m)^p`` is added inside the sum), so that f_A can neither add flicker nor
    wipe the action's motion out (screened with the one-sided term at
    lambda = 10: the flicker outside the person box fell only from 4.8 to
    4.4, while the motion inside the box fell from 20 to 13 and a fresh f'_T
    lost 30 points of top-1). L_TC is added to minimax step 1's objective
    (Eq. 9 becomes ``L_T - w L_B + L_TC``); in step 2 f_A is frozen and the
    term carries no gradient. Hand-written: no library has this constraint.

    With ``saturation=k``, both frame differences first pass through
    ``s(d) = min(d / k, 1)``, so the penalty compares *where* there is motion,
    not how strong it is: the two-sided term pins ``|A_{t+1} - A_t|`` to the
    input's pixel by pixel, and the amplitude of a moving part's difference is
    its contrast with the background, i.e. its appearance (skin, clothing).
    Above ``k`` f_A may change that contrast freely.

    With ``reference=R`` (a parameter-free f_A config, see
    :class:`~spact_mm.models.anonymizers.clip_utils.FixedReference`), X in the
    sums is replaced by R(X): f_A's motion is held to the anchor's (e.g. the
    motion-only baseline's), for an f_A started at R in stage 1.

    Args:
        loss_weight: lambda.
        margin: m, in pixel units ([0, 1] range).
        power: p, 1 (hinge) or 2 (squared hinge).
        symmetric: Also penalise frame differences smaller than the input's.
        saturation: k > 0 in pixel units, or ``None`` (no saturation, the
            plain differences).
        reference: ``None`` (compare with X) or an anchor f_A config (compare
            with R(X)).
    """

    def __init__(self, loss_weight: float = 10.0, margin: float = 0.0, power: int = 1,
                 symmetric: bool = False, saturation: Optional[float] = None,
                 reference: Optional[dict] = None) -> None:
        super().__init__()
        from spact_mm.models.anonymizers.clip_utils import FixedReference

        self.reference = FixedReference(reference) if reference is not None else None
        if loss_weight < 0 or margin < 0:
            raise ValueError(f'loss_weight and margin must be >= 0, got {loss_weight}, {margin}')
        if power not in (1, 2):
            raise ValueError(f'power must be 1 or 2, got {power}')
        if saturation is not None and saturation <= 0:
            raise ValueError(f'saturation must be > 0 or None, got {saturation}')
        self.saturation = None if saturation is None else float(saturation)
        self.loss_weight = float(loss_weight)
        self.margin = float(margin)
        self.power = int(power)
        self.symmetric = bool(symmetric)

    def forward(self, anonymized: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        """L_TC of clips ``(..., C, T, H, W)`` (NCTHW layout), anonymized and raw.

        Returns:
            A scalar tensor; its gradient reaches ``anonymized`` only.
        """
        if anonymized.shape != raw.shape or anonymized.dim() < 4:
            raise ValueError('anonymized and raw clips must have one shape (..., C, T, H, W), '
                             f'got {tuple(anonymized.shape)} and {tuple(raw.shape)}')
        if anonymized.shape[-3] < 2:
            raise ValueError(f'temporal consistency needs clips of 2 or more frames, got '
                             f'{anonymized.shape[-3]}')
        if self.reference is not None:
            raw = self.reference(raw)
        d_anon = anonymized.diff(dim=-3).abs()
        d_raw = raw.detach().diff(dim=-3).abs()
        if self.saturation is not None:
            d_anon = (d_anon / self.saturation).clamp(max=1.0)
            d_raw = (d_raw / self.saturation).clamp(max=1.0)
        penalty = (d_anon - d_raw - self.margin).clamp(min=0).pow(self.power)
        if self.symmetric:
            penalty = penalty + (d_raw - d_anon - self.margin).clamp(min=0).pow(self.power)
        return self.loss_weight * penalty.mean()
