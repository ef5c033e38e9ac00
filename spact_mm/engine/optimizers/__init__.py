"""Minimax optimisation and the non-finite guard of every stage."""
from .minimax_constructor import MinimaxOptimWrapperConstructor
from .minimax_optim_wrapper import MinimaxOptimWrapper
from .nonfinite_guard import (
    GuardedAmpOptimWrapper,
    GuardedOptimWrapper,
    NonFiniteCheckpointError,
    NonFiniteGuard,
    NonFiniteGuardHook,
    NonFiniteLossError,
    check_finite_state,
)

__all__ = [
    'MinimaxOptimWrapper', 'MinimaxOptimWrapperConstructor', 'NonFiniteLossError',
    'NonFiniteGuard', 'GuardedOptimWrapper', 'GuardedAmpOptimWrapper', 'NonFiniteGuardHook',
    'NonFiniteCheckpointError', 'check_finite_state'
]
