"""Hooks: stop rules."""
from .ssl_loss_threshold_hook import SSLLossThresholdHook

__all__ = ['SSLLossThresholdHook']
