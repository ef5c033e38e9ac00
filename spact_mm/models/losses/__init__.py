"""Losses."""
from .ntxent import NTXentLoss

__all__ = ['NTXentLoss']
