"""Privacy attribute labels of the VP-UCF101 and VP-HMDB51 benchmarks (STPrivacy, ICCV 2023).

The released annotations are pickles (``annotations/ucf101_privacy_attribute_label.pickle``,
``annotations/hmdb51_privacy_attribute_label.pickle``) of a dict

    ``'<Class>/<video>.<ext>'`` (e.g. ``'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.mp4'``)
    -> ``numpy.ndarray`` of dtype int64 and shape (1, 5), binary,

with 13,320 UCF101 and 6,766 HMDB51 entries. The five attributes' names and
order are not documented, and there are no split files: the labels are keyed
by the action datasets' own video paths.

A pickle can run any code when it is loaded, so the files are read with
:class:`RestrictedNumpyUnpickler` (the "restricting globals" recipe of the
Python ``pickle`` documentation): it admits only the globals an ndarray
pickle refers to (numpy's array reconstructors ``_reconstruct`` and
``_frombuffer``, ``numpy.ndarray``, ``numpy.dtype``) and refuses every other
one, naming the file (also ``_codecs.encode``, which Python's pickle protocol 2
uses for bytes: the released files do not need it). ``pickle.load``
itself is never called on such a file. spact_mm's other safe loaders are for
torch checkpoints (``torch.load(weights_only=True)``, :mod:`spact_mm.safe_loading`);
a plain pickle needs this one.
"""
import io
import os.path as osp
import pickle
from typing import Any, Dict, Optional

import numpy as np

from .annotation_io import AnnotationError

#: Attributes per video in the released files (names and order undocumented).
VP_NUM_ATTRIBUTES = 5
#: Released file name and number of entries of each benchmark.
VP_LABEL_FILES = {
    'ucf101': dict(file='ucf101_privacy_attribute_label.pickle', num_entries=13320),
    'hmdb51': dict(file='hmdb51_privacy_attribute_label.pickle', num_entries=6766),
}

# The installed numpy's array reconstructors, taken from how it pickles an array (no
# private import): ``_reconstruct`` (pickle protocols 2-4) and ``_frombuffer`` (protocol 5).
_RECONSTRUCT = np.zeros(1).__reduce_ex__(4)[0]
_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]
#: The only globals a label pickle may name: (module, name) -> the object it resolves to.
#: Pickles written by numpy 1.x name ``numpy.core``, by numpy 2.x ``numpy._core``.
ALLOWED_GLOBALS = {
    **{(f'numpy.{core}.multiarray', '_reconstruct'): _RECONSTRUCT for core in ('core', '_core')},
    **{(f'numpy.{core}.numeric', '_frombuffer'): _FROMBUFFER for core in ('core', '_core')},
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
}


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle names a global outside :data:`ALLOWED_GLOBALS` (it would run code)."""


class RestrictedNumpyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only numpy's array reconstruction globals.

    Args:
        file: Binary file object.
        path: File name for the error message.
    """

    def __init__(self, file: io.BufferedIOBase, path: str = '<pickle>') -> None:
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` if it is allowed; refuse anything else."""
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ForbiddenGlobalError(
                f'{self.path}: refusing to load the global {module}.{name}: a privacy label '
                'pickle may only hold numpy arrays (allowed: '
                f'{sorted(".".join(k) for k in ALLOWED_GLOBALS)})') from None


def restricted_load(path: str) -> Any:
    """Load ``path`` with :class:`RestrictedNumpyUnpickler`; errors name the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such privacy label file')
    with open(path, 'rb') as f:
        try:
            return RestrictedNumpyUnpickler(f, path).load()
        except ForbiddenGlobalError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError) as e:
            raise AnnotationError(path, f'not a readable label pickle ({type(e).__name__}: '
                                  f'{e})') from e


def load_vp_privacy_labels(path: str, num_attributes: int = VP_NUM_ATTRIBUTES,
                           num_entries: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Read a VP-UCF101 / VP-HMDB51 privacy attribute label file.

    Args:
        path: The ``*_privacy_attribute_label.pickle`` file.
        num_attributes: Attributes per video (5 in the released files).
        num_entries: If given, the number of videos the file must hold
            (``VP_LABEL_FILES[name]['num_entries']`` for the released ones).

    Returns:
        ``'<Class>/<video>'`` -> int64 array of shape (num_attributes,), values 0/1,
        in the file's order.

    Raises:
        ForbiddenGlobalError: The pickle names a global other than numpy's
            array reconstruction (it would run code).
        AnnotationError: Anything else malformed; the message names the file
            and the offending entry.
    """
    data = restricted_load(path)
    if not isinstance(data, dict):
        raise AnnotationError(path, f'expected a dict of video -> label array, got '
                              f'{type(data).__name__}')
    if not data:
        raise AnnotationError(path, 'holds no entry')
    if num_entries is not None and len(data) != num_entries:
        raise AnnotationError(path, f'holds {len(data)} entries, expected {num_entries}')
    labels: Dict[str, np.ndarray] = {}
    for i, (key, value) in enumerate(data.items(), start=1):
        where = f'entry {i} ({key!r})'
        if not isinstance(key, str) or key.count('/') != 1 or not all(key.split('/')):
            raise AnnotationError(path, f'{where}: the key must be "<Class>/<video>"')
        if not isinstance(value, np.ndarray):
            raise AnnotationError(path, f'{where}: expected a numpy array, got '
                                  f'{type(value).__name__}')
        if value.shape != (1, num_attributes):
            raise AnnotationError(path, f'{where}: expected shape (1, {num_attributes}), got '
                                  f'{value.shape}')
        if not np.issubdtype(value.dtype, np.integer):
            raise AnnotationError(path, f'{where}: expected an integer array, got dtype '
                                  f'{value.dtype}')
        if not np.isin(value, (0, 1)).all():
            raise AnnotationError(path, f'{where}: labels must be 0 or 1, got {value.tolist()}')
        labels[key] = value.reshape(num_attributes).astype(np.int64)
    return labels


def attribute_positives(labels: Dict[str, np.ndarray]) -> np.ndarray:
    """Positives per attribute over all videos (the released UCF101 file:
    [12143, 7994, 11949, 3289, 3375])."""
    return np.stack(list(labels.values())).sum(axis=0)
