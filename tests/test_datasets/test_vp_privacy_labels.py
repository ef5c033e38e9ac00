"""VP-UCF101 / VP-HMDB51 privacy attribute labels: fixtures written in the released format
(a pickled dict 'Class/v_....mp4' -> int64 array (1, 5)), the restricted unpickler."""
import os
import pickle

import numpy as np
import pytest

from spact_mm.datasets import RestrictedNumpyUnpickler, load_vp_privacy_labels
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.vp_privacy_labels import (
    VP_LABEL_FILES,
    ForbiddenGlobalError,
    attribute_positives,
)


def released_like(n: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    classes = ['ApplyEyeMakeup', 'Basketball', 'YoYo']
    return {f'{classes[i % 3]}/v_{classes[i % 3]}_g{i:02d}_c01.mp4':
            rng.integers(0, 2, size=(1, 5)).astype(np.int64) for i in range(n)}


def write(path, obj, protocol=pickle.HIGHEST_PROTOCOL) -> str:
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return str(path)


@pytest.mark.parametrize('protocol', [3, 4, 5])
def test_reads_the_released_format(tmp_path, protocol):
    data = released_like()
    labels = load_vp_privacy_labels(write(tmp_path / 'ucf.pickle', data, protocol),
                                    num_entries=6)
    assert list(labels) == list(data)  # the file's order
    for key, value in data.items():
        assert labels[key].dtype == np.int64 and labels[key].shape == (5, )
        np.testing.assert_array_equal(labels[key], value[0])
    np.testing.assert_array_equal(attribute_positives(labels),
                                  np.concatenate(list(data.values())).sum(0))
    assert VP_LABEL_FILES['ucf101']['num_entries'] == 13320


class _RunsCode:
    """A pickle that would create a file on load (a stand-in for arbitrary code)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, 'w'))


def test_refuses_a_pickle_that_would_run_code(tmp_path):
    target = tmp_path / 'pwned'
    path = write(tmp_path / 'evil.pickle', {'A/v_a.mp4': _RunsCode(str(target))})
    with pytest.raises(ForbiddenGlobalError, match=r'evil\.pickle.*(builtins|io)\.open'):
        load_vp_privacy_labels(path)
    assert not target.exists()
    # the same bytes through plain pickle do run the code: the fixture is a real threat
    with open(path, 'rb') as f:
        pickle.load(f)['A/v_a.mp4'].close()  # noqa: S301  (the point of the check)
    assert target.exists()


def test_refuses_other_globals_even_from_numpy(tmp_path):
    path = write(tmp_path / 'np.pickle', {'A/v_a.mp4': np.float64(1.0)})  # numpy scalar global
    with pytest.raises(ForbiddenGlobalError, match='np.pickle'):
        load_vp_privacy_labels(path)
    with open(path, 'rb') as f, pytest.raises(ForbiddenGlobalError):
        RestrictedNumpyUnpickler(f, path).load()


@pytest.mark.parametrize('value, message', [
    (np.zeros((5, ), np.int64), r'shape \(1, 5\)'),
    (np.zeros((1, 4), np.int64), r'shape \(1, 5\)'),
    (np.zeros((1, 5), np.float32), 'integer'),
    (np.full((1, 5), 2, np.int64), '0 or 1'),
    ([[0, 1, 0, 1, 0]], 'numpy array'),
])
def test_bad_entries_are_named(tmp_path, value, message):
    data = released_like(3)
    data['Basketball/v_bad.mp4'] = value
    path = write(tmp_path / 'bad.pickle', data)
    with pytest.raises(AnnotationError, match=rf"bad\.pickle: entry 4 \('Basketball/v_bad"
                       rf"\.mp4'\).*{message}"):
        load_vp_privacy_labels(path)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(AnnotationError, match='list.pickle.*dict'):
        load_vp_privacy_labels(write(tmp_path / 'list.pickle', [1, 2]))
    with pytest.raises(AnnotationError, match="key must be"):
        load_vp_privacy_labels(write(tmp_path / 'key.pickle', {'noclass.mp4': np.zeros((1, 5),
                                                                                     np.int64)}))
    with pytest.raises(AnnotationError, match='holds 6 entries, expected 13320'):
        load_vp_privacy_labels(write(tmp_path / 'few.pickle', released_like()),
                               num_entries=VP_LABEL_FILES['ucf101']['num_entries'])
    good = write(tmp_path / 'cut.pickle', released_like())
    with open(good, 'r+b') as f:
        f.truncate(os.path.getsize(good) // 2)
    with pytest.raises(AnnotationError, match='cut.pickle: not a readable label pickle'):
        load_vp_privacy_labels(good)
    with pytest.raises(FileNotFoundError, match='missing.pickle'):
        load_vp_privacy_labels(str(tmp_path / 'missing.pickle'))
