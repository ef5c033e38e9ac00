"""Metrics and evaluation helpers."""
from .privacy_metrics import (
    ClasswiseMultiLabelMetric,
    classwise_average_precision,
    classwise_f1,
    classwise_map,
)
from .protocol import ProgressBarHook, relative_drops, run_protocol
from .reconstruction_metric import ReconstructionMetric
from .ssl_loss import evaluate_ssl_loss

__all__ = [
    'ReconstructionMetric', 'evaluate_ssl_loss', 'ClasswiseMultiLabelMetric',
    'classwise_average_precision', 'classwise_f1', 'classwise_map', 'ProgressBarHook',
    'relative_drops', 'run_protocol'
]
