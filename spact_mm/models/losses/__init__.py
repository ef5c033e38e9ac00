"""Losses."""
from .anchor_fidelity import AnchorFidelityLoss
from .ntxent import NTXentLoss
from .temporal_consistency import TemporalConsistencyLoss

__all__ = ['AnchorFidelityLoss', 'NTXentLoss', 'TemporalConsistencyLoss']
