"""Anonymization functions f_A."""
from .baselines import (
    BASELINES,
    ORACLE_BASELINES,
    DownsampleAnonymizer,
    HOGPersonDetector,
    IdentityAnonymizer,
    MMDetPersonDetector,
    PersonObfuscationAnonymizer,
    build_baseline,
    obfuscate_boxes,
)
from .unet import UNetAnonymizer

__all__ = [
    'UNetAnonymizer', 'IdentityAnonymizer', 'DownsampleAnonymizer', 'PersonObfuscationAnonymizer',
    'HOGPersonDetector', 'MMDetPersonDetector', 'obfuscate_boxes', 'build_baseline', 'BASELINES',
    'ORACLE_BASELINES'
]
