"""L_F: keep f_A near a fixed anchor during the minimax game (remedy 7 of issue 12, ours)."""
import torch
import torch.nn as nn

from spact_mm.registry import MODELS


@MODELS.register_module()
class AnchorFidelityLoss(nn.Module):
    """A trust region around an anchor: ``L_F = lambda * mean |A - R(X)|``.

    For an f_A started at a parameter-free anchor R (stage 1 with
    ``AnonymizerReconstructor(target=R)``, e.g. the motion-only baseline),

        L_F = lambda / (N C T H W) * sum_{n,c,t,h,w} |A - R(X)|

    with X the raw clip, A = f_A(X), both in [0, 1] pixel units. Added to
    minimax step 1 (Eq. 9 becomes ``L_T - w L_B + L_F``), it lets f_A depart
    from R only where the departure pays in the game, and pulls back what pays
    nothing: the screening of the anchored start found f_A's output carrying
    scene information in background residuals of 1-2 grey levels, which a
    linear pixel probe reads (outdoor AP 99) although the anchor's background is
    exactly mid-grey (docs/results/screening_remedies.md). Hand-written: the
    anchored game is ours.

    Args:
        reference: The anchor's config, a parameter-free f_A (see
            :class:`~spact_mm.models.anonymizers.clip_utils.FixedReference`).
        loss_weight: lambda.
    """

    def __init__(self, reference: dict, loss_weight: float = 1.0) -> None:
        super().__init__()
        from spact_mm.models.anonymizers.clip_utils import FixedReference

        if loss_weight < 0:
            raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')
        self.reference = FixedReference(reference)
        self.loss_weight = float(loss_weight)

    def forward(self, anonymized: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        """L_F of clips ``(..., C, T, H, W)``; its gradient reaches ``anonymized`` only."""
        if anonymized.shape != raw.shape:
            raise ValueError('anonymized and raw clips must have one shape (..., C, T, H, W), '
                             f'got {tuple(anonymized.shape)} and {tuple(raw.shape)}')
        return self.loss_weight * (anonymized - self.reference(raw.detach())).abs().mean()
