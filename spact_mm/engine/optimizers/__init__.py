"""Minimax optimisation."""
from .minimax_constructor import MinimaxOptimWrapperConstructor
from .minimax_optim_wrapper import MinimaxOptimWrapper, NonFiniteLossError

__all__ = ['MinimaxOptimWrapper', 'MinimaxOptimWrapperConstructor', 'NonFiniteLossError']
