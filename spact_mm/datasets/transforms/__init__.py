"""Data transforms for privacy-labelled data."""
from .privacy_transforms import ClipToImage, ObfuscatePersons, PackActionPrivacyInputs

__all__ = ['ClipToImage', 'ObfuscatePersons', 'PackActionPrivacyInputs']
