"""Checkpoint loading that never executes code from the file.

torch >= 2.6 loads with ``weights_only=True`` by default: the unpickler only
rebuilds tensors, containers and an allow-list of globals. mmengine 0.10.x
checkpoints also hold a few plain-data types (``HistoryBuffer`` in the
message hub, numpy arrays and scalars in logged values, ``ConfigDict`` in
meta), so ``resume=True`` and ``load_from`` fail with torch 2.14. Instead of
falling back to ``weights_only=False`` (which runs arbitrary pickled code), we
add exactly those types to torch's allow-list. Anything else in a file is
refused by torch with an ``UnpicklingError`` naming the offending global.

One mmengine type needs more: ``HistoryBuffer.__getstate__`` stores the
class-wide table of statistics methods, which pickles as
``getattr(HistoryBuffer, 'min')``; allowing ``getattr`` would defeat the
allow-list. We make buffers pickle without that table (mmengine's
``__setstate__`` accepts its absence, and the class re-registers its methods
on import), so checkpoints written with spact_mm imported load safely.
Checkpoints written by mmengine without spact_mm still hold the ``getattr``
references and are refused.
"""
from typing import Any, Dict, List

import numpy as np
import torch


def _checkpoint_safe_types() -> List[Any]:
    """Return the globals mmengine checkpoints need, beyond torch's defaults."""
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer

    types: List[Any] = [HistoryBuffer, ConfigDict, np.ndarray, np.dtype]
    # numpy's array/scalar reconstructors (module path changed in numpy 2).
    for mod_name in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        try:
            mod = __import__(mod_name, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        types += [mod._reconstruct, mod.scalar]
    # Concrete dtype classes (numpy >= 1.25 pickles dtypes by class).
    dtypes_mod = getattr(np, 'dtypes', None)
    if dtypes_mod is not None:
        types += [getattr(dtypes_mod, n) for n in dir(dtypes_mod) if n.endswith('DType')]
    return types


def _history_buffer_getstate(self) -> dict:
    """``HistoryBuffer`` state without the class-wide statistics-method table."""
    return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}


def register_checkpoint_safe_types() -> None:
    """Extend ``torch.load``'s ``weights_only`` allow-list with mmengine's types.

    Called once when :mod:`spact_mm` is imported, so mmengine's own
    ``load_checkpoint`` (``load_from``, ``resume``) works with torch >= 2.6.
    Also makes ``HistoryBuffer`` pickle without function references (see the
    module docstring).
    """
    from mmengine.logging import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_getstate
    torch.serialization.add_safe_globals(_checkpoint_safe_types())


def load_checkpoint_safely(filename: str, map_location: str = 'cpu') -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` and our allow-list.

    Args:
        filename: Path of a ``.pth`` file.
        map_location: Device to map tensors to.

    Returns:
        The loaded object (a dict for mmengine checkpoints).

    Raises:
        FileNotFoundError: If the file does not exist.
        RuntimeError: If the file holds anything outside the allow-list (for
            example a pickle that would execute code); the message names the
            file.
    """
    import os
    import pickle

    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    register_checkpoint_safe_types()
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise RuntimeError(f'refusing to load {filename}: it holds objects outside the '
                           f'checkpoint allow-list ({e})') from e
