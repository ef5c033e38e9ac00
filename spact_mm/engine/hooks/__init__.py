"""Hooks: stop rules and stage hand-over."""
from .anonymization_visualization_hook import AnonymizationVisualizationHook  # noqa: F401
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .bad_input_report_hook import BadInputReportHook
from .final_checkpoint_hook import FinalCheckpointHook
from .privacy_probe_hook import PrivacyProbeHook
from .progress_bar_hook import ProgressBarHook
from .resume_state_hook import ResumeStateHook
from .ssl_loss_threshold_hook import SSLLossThresholdHook

__all__ = [
    'FinalCheckpointHook', 'SSLLossThresholdHook', 'AtomicCheckpointHook', 'BadInputReportHook',
    'ResumeStateHook', 'PrivacyProbeHook', 'ProgressBarHook'
]
