"""Data preprocessors."""
from .anonymizer_preprocessor import AnonymizerDataPreprocessor

__all__ = ['AnonymizerDataPreprocessor']
