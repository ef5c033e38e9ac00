"""Metrics and evaluation helpers."""
from .reconstruction_metric import ReconstructionMetric
from .ssl_loss import evaluate_ssl_loss

__all__ = ['ReconstructionMetric', 'evaluate_ssl_loss']
