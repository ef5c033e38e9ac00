"""Data structures and the operations on them that both models and datasets use."""
from .bbox import OBFUSCATION_MODES, obfuscate_boxes

__all__ = ['OBFUSCATION_MODES', 'obfuscate_boxes']
