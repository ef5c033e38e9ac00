"""An ensemble of privacy branches f_B (Table 6, "R50 + MV1" row)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from spact_mm.registry import MODELS

from .base_privacy_head import BasePrivacyHead


@MODELS.register_module()
class EnsemblePrivacyHead(BasePrivacyHead):
    """Several privacy heads trained side by side; L_B is the mean of theirs.

    Each member (e.g. an :class:`SSLPrivacyHead` with a ResNet-50 f_B and one
    with a MobileNet f_B) computes its own ``loss_ssl`` on the same anonymized
    batch, drawing its own views with its own S_F; the ensemble returns

        L_B = (1 / M) * sum_m L_B^m

    as ``loss_ssl``, so in step 1 (Eq. 9) f_A maximises the members' mean loss
    and in step 2 (Eq. 8) every member is trained on its own loss (the mean
    scales each member's gradient by 1/M). Every member keeps its own
    :class:`GradientReversal` layer (the ensemble owns none, so no gradient is
    reversed twice); :meth:`set_minimax_phase` hands the phase and omega on to
    every member.

    With ``reduction='min'`` (the "model ensemble" of Wu et al. [41]), step 1
    uses the strongest member instead:

        L_B = min_m L_B^m  (step 1),   L_B = (1 / M) * sum_m L_B^m  (step 2)

    so f_A maximises the loss of the member that currently sees most (fooling
    one f_B is not enough), while step 2 still trains every member.

    The ensemble's :attr:`loss_key` is its members' (they must share one,
    ``loss_ssl`` for SSL members). Each member's value is also returned,
    detached, as ``ssl_<name>``: keys without ``loss`` are logged by mmengine
    but not added to the total loss.

    Args:
        heads: Member privacy head configs (at least two), each a
            :class:`BasePrivacyHead` and all with the same ``loss_key``.
        names: One log name per member (default ``'0'``, ``'1'``, ...); must
            not contain ``'loss'``.
        reduction: ``'mean'`` (default, Table 6) or ``'min'`` (see above).
        init_cfg: mmengine init config.
    """

    reverses_gradient = False  # the members reverse their own input

    def __init__(self,
                 heads: Sequence[dict],
                 names: Optional[Sequence[str]] = None,
                 reduction: str = 'mean',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if reduction not in ('mean', 'min'):
            raise ValueError(f"reduction must be 'mean' or 'min', got {reduction!r}")
        self.reduction = reduction
        if len(heads) < 2:
            raise ValueError(f'an ensemble needs at least 2 privacy heads, got {len(heads)}')
        names = [str(i) for i in range(len(heads))] if names is None else list(names)
        if len(names) != len(heads) or len(set(names)) != len(names):
            raise ValueError(f'names must be {len(heads)} distinct strings, got {names}')
        if any('loss' in n for n in names):
            raise ValueError(f"member names must not contain 'loss' (mmengine would add the "
                             f'logged value to the total loss): {names}')
        self.heads = nn.ModuleList([MODELS.build(h) for h in heads])
        not_heads = [type(h).__name__ for h in self.heads if not isinstance(h, BasePrivacyHead)]
        if not_heads:
            raise TypeError(f'ensemble members must be privacy heads (BasePrivacyHead), got '
                            f'{not_heads}')
        keys = {h.loss_key for h in self.heads}
        if len(keys) > 1:
            raise ValueError(f'ensemble members return different losses {sorted(keys)}; '
                             'one ensemble averages one kind of L_B')
        self.loss_key = keys.pop()
        self.names = names

    def set_minimax_phase(self, phase: Optional[str], ssl_weight: float) -> None:
        """Take the phase (for ``reduction='min'``) and hand it and omega to every member."""
        super().set_minimax_phase(phase, ssl_weight)
        for head in self.heads:
            head.set_minimax_phase(phase, ssl_weight)

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Mean L_B of the members, plus each member's detached value.

        Args:
            inputs: Anonymized clips (N, M, C, T, H, W) or (N, C, T, H, W).
            data_samples: Passed to every member.
            aux_inputs: Passed to every member (cross-dataset protocol).

        Returns:
            ``{loss_key: mean (or min), ssl_<name>: member value, ...}``.
        """
        member = []
        for head in self.heads:
            out = head.loss(inputs, data_samples, aux_inputs=aux_inputs)
            if self.loss_key not in out:
                raise KeyError(f'{type(head).__name__} returned {sorted(out)}, no '
                               f'{self.loss_key}')
            member.append(out[self.loss_key])
        stacked = torch.stack(member)
        step1_min = self.reduction == 'min' and self.maximised
        losses = {self.loss_key: stacked.min() if step1_min else stacked.mean()}
        losses.update({f'ssl_{n}': v.detach() for n, v in zip(self.names, member)})
        return losses
