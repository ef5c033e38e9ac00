"""Small building blocks shared by heads and recognizers."""
from .gradient_reversal import GradientReversal, grad_reverse

__all__ = ['GradientReversal', 'grad_reverse']
