"""Anonymization functions f_A."""
from .unet import UNetAnonymizer

__all__ = ['UNetAnonymizer']
