"""Losses."""
from .ntxent import NTXentLoss
from .temporal_consistency import TemporalConsistencyLoss

__all__ = ['NTXentLoss', 'TemporalConsistencyLoss']
