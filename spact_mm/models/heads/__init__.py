"""Privacy heads."""
from .ssl_privacy_head import SSLPrivacyHead, sample_frame_pairs
from .supervised_privacy_head import SupervisedPrivacyHead, binary_entropy_with_logits

__all__ = [
    'SSLPrivacyHead', 'sample_frame_pairs', 'SupervisedPrivacyHead', 'binary_entropy_with_logits'
]
