"""What every privacy branch f_B shares: the reversal of Eq. 9, the minimax phase, a loss key.

A privacy head maps the anonymized batch to one loss, in the manner of
mmpretrain's ``ContrastiveHead`` (features in, loss out). What a minimax
adversary adds to that is small and the same for every head, so it lives
here once:

- the gradient reversal layer (Ganin & Lempitsky, the paper's ref. [10])
  through which the head reads f_A's output, with weight omega of Eq. 9
  (``ssl_weight``): in step 1, f_A's gradient of ``L_T + L_B`` is then
  ``grad L_T - omega * grad L_B``;
- the minimax phase of the current iteration (``'anonymizer'`` = step 1,
  Eq. 9; ``'adversary'`` = step 2, Eq. 7-8; ``None`` = no minimax loop, f_B is
  trained as in step 2), for heads whose objective or state depends on it
  (the entropy of [41] in step 1, MoCo's queue that only moves in step 2);
- the name of the one loss it returns (``loss_key``), which the stop rule
  (``SSLLossThresholdHook``), ``evaluate_ssl_loss`` and the logs read.

:meth:`BasePrivacyHead.set_minimax_phase` is the single entry point through
which :class:`SPActRecognizer` hands both the phase and omega to its head,
once per iteration, on behalf of :class:`MinimaxOptimWrapper`.
"""
import warnings
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModule

from spact_mm.models.layers import GradientReversal

#: ``None`` (no minimax loop), step 1 (Eq. 9) and step 2 (Eq. 7, 8).
MINIMAX_PHASES = (None, 'anonymizer', 'adversary')


def resolve_ssl_weight(ssl_weight: float, grad_reverse_weight: Optional[float],
                       owner: str) -> float:
    """omega from ``ssl_weight``, or from the deprecated ``grad_reverse_weight`` alias."""
    if grad_reverse_weight is None:
        return float(ssl_weight)
    warnings.warn(f'{owner}: `grad_reverse_weight` is deprecated, use `ssl_weight` (omega of '
                  'Eq. 9, the same name as in MinimaxOptimWrapper)', DeprecationWarning,
                  stacklevel=3)
    return float(grad_reverse_weight)


def check_minimax_phase(phase: Optional[str]) -> None:
    """Raise ``ValueError`` unless ``phase`` is one of :data:`MINIMAX_PHASES`."""
    if phase not in MINIMAX_PHASES:
        raise ValueError(f'unknown minimax phase {phase!r}; expected one of {MINIMAX_PHASES}')


class BasePrivacyHead(BaseModule):
    """Base class of the privacy branches f_B of :class:`SPActRecognizer`.

    Subclasses implement :meth:`loss`, returning ``{self.loss_key: L_B}`` plus
    any logged-only values (names without ``loss``), and read their input
    through :attr:`grad_reverse`.

    Attributes:
        loss_key: Name of the head's loss in the loss dict and the logs
            (``'loss_ssl'`` for the self-supervised heads, ``'loss_privacy'``
            for the supervised heads of [41] and BDQ).
        reverses_gradient: Whether the head owns a reversal layer (an
            ensemble leaves it to its members).
        minimax_phase: The phase set by :meth:`set_minimax_phase`.

    Args:
        ssl_weight: Initial omega of Eq. 9; :class:`MinimaxOptimWrapper`
            sets its own every iteration.
        init_cfg: mmengine init config.
        grad_reverse_weight: Deprecated alias of ``ssl_weight``.
    """

    loss_key: str = 'loss_ssl'
    reverses_gradient: bool = True

    def __init__(self, ssl_weight: float = 1.0, init_cfg: Optional[dict] = None,
                 grad_reverse_weight: Optional[float] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        omega = resolve_ssl_weight(ssl_weight, grad_reverse_weight, type(self).__name__)
        if self.reverses_gradient:
            self.grad_reverse = GradientReversal(omega)
        self.minimax_phase: Optional[str] = None

    @property
    def ssl_weight(self) -> Optional[float]:
        """omega of Eq. 9 as the reversal layer applies it (``None`` without one)."""
        layer = getattr(self, 'grad_reverse', None)
        return layer.weight if isinstance(layer, GradientReversal) else None

    def set_minimax_phase(self, phase: Optional[str], ssl_weight: float) -> None:
        """Take this iteration's phase and omega (called once per iteration).

        Args:
            phase: ``'anonymizer'`` (step 1), ``'adversary'`` (step 2) or
                ``None`` (no minimax loop).
            ssl_weight: omega of Eq. 9, the reversal layer's weight.
        """
        check_minimax_phase(phase)
        self.minimax_phase = phase
        layer = getattr(self, 'grad_reverse', None)
        if isinstance(layer, GradientReversal):
            layer.weight = float(ssl_weight)

    @property
    def maximised(self) -> bool:
        """Whether this call is step 1, where f_A maximises the head's loss (Eq. 9)."""
        check_minimax_phase(self.minimax_phase)
        return self.minimax_phase == 'anonymizer'

    def trains_fb(self) -> bool:
        """Whether this call trains f_B: train mode, and not step 1."""
        return self.training and not self.maximised

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """``{loss_key: L_B}`` on the anonymized batch (and logged-only extras)."""
        raise NotImplementedError
