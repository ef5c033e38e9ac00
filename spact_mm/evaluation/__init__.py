"""Metrics and evaluation protocols."""
from .reconstruction_metric import ReconstructionMetric

__all__ = ['ReconstructionMetric']
