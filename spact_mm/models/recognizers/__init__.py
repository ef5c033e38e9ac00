"""Recognizers."""
from .spact_recognizer import SPActRecognizer

__all__ = ['SPActRecognizer']
