"""Anonymization functions f_A."""
from .baselines import (
    BASELINES,
    ORACLE_BASELINES,
    DownsampleAnonymizer,
    HOGPersonDetector,
    IdentityAnonymizer,
    MMDetPersonDetector,
    MotionOnlyAnonymizer,
    PersonObfuscationAnonymizer,
    build_baseline,
    obfuscate_boxes,
)
from .bdq import BDQEncoder, LearnableQuantizer, gaussian_kernel1d
from .clip_utils import anonymize_clips, anonymize_images, frame_difference, is_clip_level
from .face import (
    FACE_BASELINES,
    FaceAnonymizer,
    FaceModifier,
    FaceObfuscationAnonymizer,
    HaarFaceDetector,
    MMDetFaceDetector,
    build_face_baseline,
)
from .stprivacy import STPrivacyAnonymizer, TubeletSparsifier
from .unet import MotionUNetAnonymizer, UNetAnonymizer

__all__ = [
    'UNetAnonymizer', 'IdentityAnonymizer', 'DownsampleAnonymizer', 'PersonObfuscationAnonymizer',
    'HOGPersonDetector', 'MMDetPersonDetector', 'obfuscate_boxes', 'build_baseline', 'BASELINES',
    'ORACLE_BASELINES', 'MotionOnlyAnonymizer', 'BDQEncoder', 'LearnableQuantizer',
    'gaussian_kernel1d', 'anonymize_clips', 'anonymize_images', 'frame_difference',
    'is_clip_level', 'MotionUNetAnonymizer', 'STPrivacyAnonymizer', 'TubeletSparsifier',
    'FaceAnonymizer', 'FaceModifier', 'FaceObfuscationAnonymizer', 'HaarFaceDetector',
    'MMDetFaceDetector', 'build_face_baseline', 'FACE_BASELINES'
]
