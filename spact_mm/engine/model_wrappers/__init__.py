"""Model wrappers for distributed SPAct training."""
from .minimax_ddp import SPActDistributedDataParallel

__all__ = ['SPActDistributedDataParallel']
