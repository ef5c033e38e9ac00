"""Privacy heads."""
from .ssl_privacy_head import SSLPrivacyHead, sample_frame_pairs

__all__ = ['SSLPrivacyHead', 'sample_frame_pairs']
