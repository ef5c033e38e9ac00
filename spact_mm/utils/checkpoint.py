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


#: The fields a ``HistoryBuffer`` holds (mmengine 0.10), and their plain types.
_HISTORY_BUFFER_FIELDS = {'_log_history': np.ndarray, '_count_history': np.ndarray,
                          'max_length': int}


def _history_buffer_setstate(self, state: Any) -> None:
    """Restore a ``HistoryBuffer`` from plain fields only.

    mmengine's own ``__setstate__`` merges a pickled ``statistics_methods`` into
    the class-wide (process-wide) table, so a checkpoint could replace how every
    logged value is reduced. Only the three data fields are admitted here;
    anything else is refused (the load fails with the file named).
    """
    import pickle

    if not isinstance(state, dict):
        raise pickle.UnpicklingError(f'HistoryBuffer state must be a dict, got '
                                     f'{type(state).__name__}')
    for key, value in state.items():
        want = _HISTORY_BUFFER_FIELDS.get(key)
        if want is None:
            raise pickle.UnpicklingError(
                f'HistoryBuffer field {key!r} is not one of the plain fields '
                f'{sorted(_HISTORY_BUFFER_FIELDS)}')
        if not isinstance(value, want) or isinstance(value, bool):
            raise pickle.UnpicklingError(f'HistoryBuffer field {key!r} must be '
                                         f'{want.__name__}, got {type(value).__name__}')
    self._set_default_statistics()
    self.__dict__.update(state)


def register_checkpoint_safe_types() -> None:
    """Extend ``torch.load``'s ``weights_only`` allow-list with mmengine's types.

    Called by :func:`spact_mm.safe_loading.enable_safe_loading` (the
    ``spact_mm.safe_loading`` entry of a config's ``custom_imports``), so
    mmengine's own ``load_checkpoint`` (``load_from``, ``resume``) works with
    torch >= 2.6, and before every :func:`load_checkpoint_safely`.
    Also makes ``HistoryBuffer`` pickle without function references (see the
    module docstring).
    """
    from mmengine.logging import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_getstate
    HistoryBuffer.__setstate__ = _history_buffer_setstate
    torch.serialization.add_safe_globals(_checkpoint_safe_types())


def load_checkpoint_safely(filename: str, map_location: str = 'cpu') -> Dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` and our allow-list.

    ``weights_only=True`` is passed explicitly, so a user's
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` cannot turn it off.

    Args:
        filename: Path of a ``.pth`` file.
        map_location: Device to map tensors to.

    Returns:
        The loaded checkpoint: a dict (mmengine checkpoints, plain state dicts).

    Raises:
        FileNotFoundError: If the file does not exist (or no name is given).
        RuntimeError: If the file holds anything outside the allow-list (for
            example a pickle that would execute code), is empty, truncated or
            not a torch checkpoint at all, or holds something other than a dict;
            the message names the file.
    """
    import os

    if not filename:
        raise FileNotFoundError(
            'no checkpoint file name given (empty). If it came from the work dir\'s '
            '`last_checkpoint` file, that file is empty: delete it, or pass the '
            'checkpoint with --resume PATH')
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    with open(filename, 'rb') as f:
        return load_checkpoint_bytes(f, filename, map_location)


def load_checkpoint_bytes(file, source: str, map_location=None) -> Dict[str, Any]:
    """:func:`load_checkpoint_safely` for an open file or buffer; ``source`` names it."""
    import pickle

    register_checkpoint_safe_types()
    try:
        checkpoint = torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise _refusal(source, e, _pickle_imports(file)) from e
    except (EOFError, KeyError, RuntimeError, ValueError, IndexError, TypeError) as e:
        # torch's own messages for these name no file (e.g. ``EOFError('')`` for
        # an empty file, ``KeyError`` for text, a miniz error for a truncated zip).
        raise RuntimeError(f'cannot load {source}: empty, truncated or not a torch '
                           f'checkpoint ({type(e).__name__}: {_without_advice(str(e))})') from e
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f'cannot load {source}: it holds a {type(checkpoint).__name__}, '
                           f'not a checkpoint (a dict with "state_dict", or a state dict)')
    return checkpoint


def _without_advice(detail: str) -> str:
    """torch's message without its advice to load with ``weights_only=False``."""
    import re

    if 'WeightsUnpickler error:' in detail:
        detail = detail.split('WeightsUnpickler error:', 1)[1]
    detail = detail.split('Check the documentation')[0]
    detail = re.sub(r'[^.]*weights_only[^.]*(False|succeed)[^.]*\.?', '', detail)
    detail = re.sub(r'[^.]*(trusted source|file an issue)[^.]*[.:]?', '', detail)
    return ' '.join(detail.split())


def _pickle_imports(file) -> bool:
    """Whether the bytes of ``file`` are a raw pickle that imports or calls objects.

    torch's restricted unpickler rejects pickle protocols >= 4 at their first
    opcode, so random bytes and a code-running raw pickle get the same message.
    This walks the opcodes with :mod:`pickletools` (nothing is executed) to tell
    them apart.
    """
    import pickletools

    try:
        file.seek(0)
        ops = {op.name for op, _, _ in pickletools.genops(file)}
    except Exception:  # not a pickle (or a torch zip, whose failures torch names)
        return False
    return bool(ops & {'GLOBAL', 'STACK_GLOBAL', 'REDUCE', 'INST', 'OBJ', 'NEWOBJ', 'NEWOBJ_EX'})


def _refusal(source: str, err: Exception, imports: bool = False) -> RuntimeError:
    detail = _without_advice(str(err))
    if imports and 'global' not in detail.lower():
        detail = f'a raw pickle that imports or calls objects; torch: {detail}'
    elif 'global' not in detail.lower() and 'HistoryBuffer' not in detail:
        # Not a disallowed class or function: bytes that are no pickle torch reads.
        return RuntimeError(f'cannot load {source}: empty, truncated or not a torch '
                            f'checkpoint ({detail})')
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
    downloaded pickle would run code. This one downloads to the same cache
    (torch hub's ``checkpoints`` folder, or ``model_dir``; rank 0 first, then
    the others) and loads the file with :func:`load_checkpoint_bytes`.

    Args:
        filename: The URL.
        map_location: Same as :func:`torch.load`.
        model_dir: Download folder (torch hub's cache by default).
        progress: Show a download progress bar.

    Returns:
        The loaded checkpoint.
    """
    import os
    import os.path as osp
    from urllib.parse import urlparse

    from mmengine.dist import get_dist_info

    folder = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(folder, osp.basename(urlparse(filename).path))

    def fetch():
        os.makedirs(folder, exist_ok=True)
        if not osp.isfile(cached):
            torch.hub.download_url_to_file(filename, cached, progress=progress)
        with open(cached, 'rb') as f:
            return load_checkpoint_bytes(f, f'{filename} (downloaded to {cached})', map_location)

    rank, world_size = get_dist_info()
    checkpoint = fetch() if rank == 0 else None
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = fetch()
    return checkpoint


def safe_load_from_openmmlab(filename: str, map_location=None) -> Dict[str, Any]:
    """``open-mmlab://NAME`` / ``openmmlab://NAME`` through the safe loaders.

    Resolves ``NAME`` exactly as mmengine's ``load_from_openmmlab`` does
    (its model-zoo table, deprecated names, ``MMENGINE_HOME`` for local
    entries), then loads a URL with :func:`safe_load_from_http` and a local
    file with :func:`load_checkpoint_safely`. mmengine's own loader calls plain
    ``torch.load``, which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns unsafe.
    """
    import os.path as osp

    from mmengine.runner import checkpoint as mm_ckpt

    prefix = 'open-mmlab://' if filename.startswith('open-mmlab://') else 'openmmlab://'
    name = filename[len(prefix):]
    name = mm_ckpt.get_deprecated_model_names().get(name, name)
    urls = mm_ckpt.get_external_models()
    if name not in urls:
        raise FileNotFoundError(f'{filename}: {name!r} is not in mmengine\'s model zoo table')
    url = urls[name]
    if url.startswith(('http://', 'https://')):
        return safe_load_from_http(url, map_location=map_location)
    return load_checkpoint_safely(osp.join(mm_ckpt._get_mmengine_home(), url),
                                  map_location=map_location)


def safe_load_from_ceph(filename: str, map_location=None, backend: str = 'petrel'):
    """``s3://`` / ``petrel://`` through mmengine's file backend, loaded safely."""
    import io

    from mmengine.fileio import get_file_backend

    data = get_file_backend(filename, backend_args={'backend': backend}).get(filename)
    with io.BytesIO(data) as buffer:
        return load_checkpoint_bytes(buffer, filename, map_location)


def safe_load_from_pavi(filename: str, map_location=None):
    """``pavi://`` downloaded as mmengine does, then loaded safely."""
    import os.path as osp
    from tempfile import TemporaryDirectory

    try:
        from pavi import modelcloud
    except ImportError as e:
        raise ImportError('Please install pavi to load checkpoint from modelcloud.') from e
    model = modelcloud.get(filename[len('pavi://'):])
    with TemporaryDirectory() as tmp_dir:
        downloaded = osp.join(tmp_dir, model.name)
        model.download(downloaded)
        return load_checkpoint_safely(downloaded, map_location=map_location)


def register_safe_checkpoint_loaders() -> None:
    """Make every mmengine checkpoint path load with ``weights_only=True``.

    Re-registers mmengine's ``CheckpointLoader`` schemes for local files and
    ``http(s)://`` with :func:`safe_load_from_local` and
    :func:`safe_load_from_http`, and points the module-level names that
    mmengine's other schemes call (``torchvision://``, ``open-mmlab://``,
    ``mmcls://`` go through ``load_from_http``/``load_from_local``) at them.
    ``open-mmlab://``, ``s3://``/``petrel://`` and ``pavi://`` get loaders of their
    own (:func:`safe_load_from_openmmlab`, ...): mmengine's call plain
    ``torch.load``, unsafe under ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``. Every
    scheme mmengine registers is thus loaded with ``weights_only=True``. Called by
    :func:`spact_mm.safe_loading.enable_safe_loading`; ``import spact_mm`` alone
    leaves mmengine's loaders as they are.
    """
    from mmengine.runner import checkpoint as mm_ckpt

    mm_ckpt.CheckpointLoader.register_scheme(prefixes='', loader=safe_load_from_local,
                                             force=True)
    mm_ckpt.CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                             loader=safe_load_from_http, force=True)
    mm_ckpt.CheckpointLoader.register_scheme(prefixes=('open-mmlab://', 'openmmlab://'),
                                             loader=safe_load_from_openmmlab, force=True)
    mm_ckpt.CheckpointLoader.register_scheme(prefixes=[r'(\S+\:)?s3://', r'(\S+\:)?petrel://'],
                                             loader=safe_load_from_ceph, force=True)
    mm_ckpt.CheckpointLoader.register_scheme(prefixes='pavi://', loader=safe_load_from_pavi,
                                             force=True)
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
