"""Data transforms for privacy-labelled data."""
from .face_transforms import PackFaceInputs  # noqa: F401
from .privacy_transforms import ClipToImage, ObfuscatePersons, PackActionPrivacyInputs

__all__ = ['ClipToImage', 'ObfuscatePersons', 'PackActionPrivacyInputs']
