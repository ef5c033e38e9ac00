"""Privacy heads: the privacy branch f_B and its loss, one :class:`BasePrivacyHead` each."""
from .base_privacy_head import MINIMAX_PHASES, BasePrivacyHead
from .bdq_privacy_head import BDQPrivacyHead, categorical_entropy_with_logits
from .ensemble_privacy_head import EnsemblePrivacyHead
from .face_identity import FaceIdentityHead  # noqa: F401
from .moco_privacy_head import MoCoPrivacyHead
from .rotnet_privacy_head import RotNetPrivacyHead, rotation_batch
from .ssl_privacy_head import SSLPrivacyHead, encode, sample_frame_pairs
from .supervised_privacy_head import SupervisedPrivacyHead, binary_entropy_with_logits

__all__ = [
    'BasePrivacyHead', 'MINIMAX_PHASES',
    'SSLPrivacyHead', 'sample_frame_pairs', 'encode', 'SupervisedPrivacyHead',
    'binary_entropy_with_logits', 'MoCoPrivacyHead', 'RotNetPrivacyHead', 'rotation_batch',
    'EnsemblePrivacyHead', 'BDQPrivacyHead', 'categorical_entropy_with_logits'
]
