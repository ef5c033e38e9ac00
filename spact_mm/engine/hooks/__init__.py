"""Hooks: stop rules and stage hand-over."""
from .final_checkpoint_hook import FinalCheckpointHook
from .ssl_loss_threshold_hook import SSLLossThresholdHook

__all__ = ['FinalCheckpointHook', 'SSLLossThresholdHook']
