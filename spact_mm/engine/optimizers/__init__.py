"""Minimax optimisation."""
from .minimax_constructor import MinimaxOptimWrapperConstructor
from .minimax_optim_wrapper import MinimaxOptimWrapper

__all__ = ['MinimaxOptimWrapper', 'MinimaxOptimWrapperConstructor']
