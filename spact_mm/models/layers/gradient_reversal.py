"""Gradient reversal layer (Ganin & Lempitsky 2015, the paper's ref. [10]).

SPAct gets the minus sign of Eq. 9 "by using negative gradients": the privacy
branch reads the anonymized frames through this layer, which is the identity
forward and multiplies the gradient by ``-weight`` backward. With it, the
gradient of the plain sum ``L_T + L_B`` with respect to f_A's parameters is
``grad(L_T) - w * grad(L_B)`` (Eq. 9), while f_T and f_B, which sit after the
layer, still receive ``grad(L_T)`` and ``grad(L_B)`` (Eq. 7, 8).
"""
import torch
import torch.nn as nn


class _GradReverse(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: float) -> torch.Tensor:  # type: ignore
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore
        return -ctx.weight * grad, None


def grad_reverse(x: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
    """Identity forward; gradient multiplied by ``-weight`` backward."""
    return _GradReverse.apply(x, weight)


class GradientReversal(nn.Module):
    """Module form of :func:`grad_reverse`.

    ``weight`` is the paper's omega (Eq. 9). :class:`MinimaxOptimWrapper`
    sets it from its ``ssl_weight`` on every ``GradientReversal`` in the model,
    so omega is configured in one place.

    Args:
        weight: Gradient multiplier magnitude.
    """

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.weight) if x.requires_grad else x

    def extra_repr(self) -> str:
        return f'weight={self.weight}'
