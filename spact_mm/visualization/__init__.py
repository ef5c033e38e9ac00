"""Visualization: raw-versus-anonymized frame grids of f_A."""
from .anonymization_grid import (
                                 anonymization_grid,
                                 batch_anonymization_grid,
                                 clip_frames,
                                 raw_and_anonymized,
                                 save_grid,
)

__all__ = [
    'anonymization_grid', 'batch_anonymization_grid', 'clip_frames', 'raw_and_anonymized',
    'save_grid'
]
