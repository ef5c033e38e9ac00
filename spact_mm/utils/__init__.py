"""Utilities: registry scope set-up and safe checkpoint loading."""
from .checkpoint import (
    atomic_write_bytes,
    load_checkpoint_safely,
    register_checkpoint_safe_types,
    register_safe_checkpoint_loaders,
)
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'register_checkpoint_safe_types', 'load_checkpoint_safely',
    'register_safe_checkpoint_loaders', 'atomic_write_bytes'
]
