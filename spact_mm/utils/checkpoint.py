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
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List

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
            example a pickle that would execute code), or is empty, truncated
            or not a checkpoint at all; the message names the file.
    """
    import os
    import pickle

    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    register_checkpoint_safe_types()
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise _refusal(filename, e) from e
    except (EOFError, KeyError, RuntimeError) as e:
        # torch's own messages for these name no file (e.g. ``EOFError('')`` for
        # an empty file, ``KeyError`` for text, a miniz error for a truncated zip).
        raise RuntimeError(f'cannot load {filename}: empty, truncated or not a torch '
                           f'checkpoint ({type(e).__name__}: {e})') from e


def _refusal(source: str, err: Exception) -> RuntimeError:
    detail = str(err)
    if 'WeightsUnpickler error:' in detail:  # drop torch's advice to use weights_only=False
        detail = detail.split('WeightsUnpickler error:', 1)[1].split('Check the documentation')[0]
        detail = ' '.join(detail.split())
    return RuntimeError(f'refusing to load {source}: it holds objects outside the checkpoint '
                        f'allow-list, e.g. a pickle that would run code ({detail})')


def safe_load_from_local(filename: str, map_location=None) -> Dict[str, Any]:
    """mmengine ``CheckpointLoader`` scheme for local paths, loading with the allow-list.

    Replaces mmengine's ``load_from_local`` (which calls ``torch.load`` without
    ``weights_only`` and so executes pickled code on torch < 2.6). Used by
    ``load_from``, ``resume``, ``tools/test.py``'s checkpoint argument and
    everything else that goes through mmengine's ``CheckpointLoader``.

    Args:
        filename: Local path (``~`` is expanded).
        map_location: Same as :func:`torch.load`.

    Returns:
        The loaded checkpoint.
    """
    import os.path as osp

    return load_checkpoint_safely(osp.expanduser(filename), map_location=map_location)


def safe_load_from_http(filename: str, map_location=None, model_dir=None,
                        progress: bool = False) -> Dict[str, Any]:
    """mmengine ``CheckpointLoader`` scheme for ``http(s)://`` URLs, with the allow-list.

    mmengine's ``load_from_http`` calls ``torch.hub.load_state_dict_from_url``,
    whose ``weights_only`` defaults to ``False`` even in torch 2.14: a
    downloaded pickle would run code. This one downloads the same way (rank 0
    first, then the others) and loads with ``weights_only=True``.

    Args:
        filename: The URL.
        map_location: Same as :func:`torch.load`.
        model_dir: Download folder (torch hub's cache by default).
        progress: Show a download progress bar.

    Returns:
        The loaded checkpoint.
    """
    import pickle

    from mmengine.dist import get_dist_info

    def fetch():
        try:
            return torch.hub.load_state_dict_from_url(
                filename, model_dir=model_dir, map_location=map_location, progress=progress,
                weights_only=True)
        except pickle.UnpicklingError as e:
            raise _refusal(filename, e) from e

    rank, world_size = get_dist_info()
    checkpoint = fetch() if rank == 0 else None
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = fetch()
    return checkpoint


def register_safe_checkpoint_loaders() -> None:
    """Make every mmengine checkpoint path load with ``weights_only=True``.

    Re-registers mmengine's ``CheckpointLoader`` schemes for local files and
    ``http(s)://`` with :func:`safe_load_from_local` and
    :func:`safe_load_from_http`, and points the module-level names that
    mmengine's other schemes call (``torchvision://``, ``open-mmlab://``,
    ``mmcls://`` go through ``load_from_http``/``load_from_local``) at them.
    The remaining schemes (``pavi://``, ``s3://``) call ``torch.load`` with its
    default, ``weights_only=True`` on torch >= 2.6. Called on ``import spact_mm``.
    """
    from mmengine.runner import checkpoint as mm_ckpt

    mm_ckpt.CheckpointLoader.register_scheme(prefixes='', loader=safe_load_from_local,
                                             force=True)
    mm_ckpt.CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                             loader=safe_load_from_http, force=True)
    mm_ckpt.load_from_local = safe_load_from_local
    mm_ckpt.load_from_http = safe_load_from_http


def _fsync_dir(folder: str) -> None:
    """Make a rename inside ``folder`` durable (no-op where folders cannot be opened)."""
    import os

    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def fsync_file(path: str) -> None:
    """Flush ``path``'s content to disk."""
    import os

    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(filename: str, tmp_suffix: str = '.tmp') -> str:
    """The fixed temporary name beside ``filename``: ``.{name}{tmp_suffix}``.

    Fixed rather than random, so that a file left by a killed process is
    replaced by the next write of the same file instead of piling up.
    """
    import os.path as osp

    folder, name = osp.split(osp.abspath(filename))
    return osp.join(folder, f'.{name}{tmp_suffix}')


@contextmanager
def atomic_output(filename: str, tmp_suffix: str = '.tmp') -> Iterator[str]:
    """Write a file under a temporary name and rename it to ``filename`` when complete.

    Yields the temporary path (:func:`temporary_name`, in the same folder, so
    the rename cannot cross file systems). When the ``with`` block ends
    normally the file is flushed to disk (``fsync``), renamed over
    ``filename`` (``os.replace``, atomic on POSIX and Windows) and the rename
    is made durable. If the block raises, the temporary file is removed and
    ``filename`` is untouched. Hand-written: the Python standard library has no
    atomic-write helper.

    Args:
        filename: Destination path.
        tmp_suffix: End of the temporary name; writers that choose the format
            by extension (OpenCV's ``VideoWriter``) need it to end with the
            destination's extension, e.g. ``'.tmp.mp4'``.
    """
    import os

    tmp = temporary_name(filename, tmp_suffix)
    try:
        yield tmp
        if not os.path.isfile(tmp):
            raise OSError(f'nothing was written to {tmp} (for {filename})')
        fsync_file(tmp)
        os.replace(tmp, filename)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(os.path.dirname(os.path.abspath(filename)))


def atomic_write_bytes(data: bytes, filename: str) -> None:
    """Write ``data`` to ``filename`` so that a crash never leaves a partial file there.

    Through :func:`atomic_output`: a fixed temporary name beside ``filename``
    (a kill leaves at most that one file, which the next write replaces),
    ``fsync``, then ``os.replace``. The file is created with the usual mode
    (``0o666`` less the umask), as ``open()`` creates files.

    Args:
        data: File content.
        filename: Destination path.
    """
    with atomic_output(filename) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)
