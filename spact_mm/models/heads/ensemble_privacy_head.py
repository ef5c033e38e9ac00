"""An ensemble of privacy branches f_B (Table 6, "R50 + MV1" row)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from spact_mm.registry import MODELS


@MODELS.register_module()
class EnsemblePrivacyHead(BaseModule):
    """Several privacy heads trained side by side; L_B is the mean of theirs.

    Each member (e.g. an :class:`SSLPrivacyHead` with a ResNet-50 f_B and one
    with a MobileNet f_B) computes its own ``loss_ssl`` on the same anonymized
    batch, drawing its own views with its own S_F; the ensemble returns

        L_B = (1 / M) * sum_m L_B^m

    as ``loss_ssl``, so in step 1 (Eq. 9) f_A maximises the members' mean loss
    and in step 2 (Eq. 8) every member is trained on its own loss (the mean
    scales each member's gradient by 1/M). Every member keeps its own
    :class:`GradientReversal` layer and, if it has one, ``minimax_phase``:
    :class:`MinimaxOptimWrapper` walks all modules and sets both.

    With ``reduction='min'`` (the "model ensemble" of Wu et al. [41]), step 1
    uses the strongest member instead:

        L_B = min_m L_B^m  (step 1),   L_B = (1 / M) * sum_m L_B^m  (step 2)

    so f_A maximises the loss of the member that currently sees most (fooling
    one f_B is not enough), while step 2 still trains every member. The phase
    is read from ``minimax_phase``, which :class:`MinimaxOptimWrapper` sets.

    Each member's value is also returned, detached, as ``ssl_<name>``: keys
    without ``loss`` are logged by mmengine but not added to the total loss.

    Args:
        heads: Member privacy head configs (at least two), each returning
            ``loss_ssl``.
        names: One log name per member (default ``'0'``, ``'1'``, ...); must
            not contain ``'loss'``.
        reduction: ``'mean'`` (default, Table 6) or ``'min'`` (see above).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 heads: Sequence[dict],
                 names: Optional[Sequence[str]] = None,
                 reduction: str = 'mean',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if reduction not in ('mean', 'min'):
            raise ValueError(f"reduction must be 'mean' or 'min', got {reduction!r}")
        self.reduction = reduction
        self.minimax_phase = 'adversary'  # set by MinimaxOptimWrapper every iteration
        if len(heads) < 2:
            raise ValueError(f'an ensemble needs at least 2 privacy heads, got {len(heads)}')
        names = [str(i) for i in range(len(heads))] if names is None else list(names)
        if len(names) != len(heads) or len(set(names)) != len(names):
            raise ValueError(f'names must be {len(heads)} distinct strings, got {names}')
        if any('loss' in n for n in names):
            raise ValueError(f"member names must not contain 'loss' (mmengine would add the "
                             f'logged value to the total loss): {names}')
        self.heads = nn.ModuleList([MODELS.build(h) for h in heads])
        self.names = names

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
            ``dict(loss_ssl=mean, ssl_<name>=member value, ...)``.
        """
        member = []
        for head in self.heads:
            out = head.loss(inputs, data_samples, aux_inputs=aux_inputs)
            if 'loss_ssl' not in out:
                raise KeyError(f'{type(head).__name__} returned {sorted(out)}, no loss_ssl')
            member.append(out['loss_ssl'])
        stacked = torch.stack(member)
        if self.reduction == 'min' and self.minimax_phase == 'anonymizer':
            losses = dict(loss_ssl=stacked.min())
        else:
            losses = dict(loss_ssl=stacked.mean())
        losses.update({f'ssl_{n}': v.detach() for n, v in zip(self.names, member)})
        return losses
