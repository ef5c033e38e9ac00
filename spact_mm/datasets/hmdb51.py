"""HMDB51 read from its official three-way split files (Sec. 5.1; Table 2's novel actions).

Format source: the official ``test_train_splits.rar`` of HMDB51
(https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/,
unpacked by mmaction2's ``tools/data/hmdb51/download_annotations.sh``): a folder
``testTrainMulti_7030_splits`` with one file per class and split,
``<class>_test_split<1|2|3>.txt``, each line ``<video>.avi <tag>`` (the files end
every line with a space), where tag ``1`` = training, ``2`` = testing and ``0`` =
not used in this split. A copy of split 1 is in
``VITA-Group/Privacy-AdversarialLearning`` (``data-preparation/HMDB51/standard_split``),
and mmaction2's ``tools/data/parse_file_list.py`` (``parse_hmdb51_split``) reads
the same files. Labels are the 0-based position of the class in the sorted list
of the 51 class names (:data:`HMDB51_CLASSES`), as mmaction2's generated
``classInd.txt`` numbers them (sorted directory names), and videos are looked up
as ``<data_prefix.video>/<class>/<video>.avi`` (mmaction2's ``data/hmdb51/videos``
layout, the unpacked ``hmdb51_org.rar``).

Bad input follows the policy of :mod:`spact_mm.datasets.bad_input` (a named
error by default, a counted skip with ``on_bad_input='skip'``): a malformed or
repeated split line, a missing or empty video, a video that does not decode or
is shorter than the clip. A split file named after an unknown class is always
an error.
"""
import os.path as osp
import re
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from mmaction.datasets import VideoDataset
from mmengine.fileio import list_dir_or_file

from spact_mm.registry import DATASETS

from .annotation_io import AnnotationError, OnBadItem, read_lines, report_bad_item
from .bad_input import VideoBadInputMixin

__all__ = [
    'HMDB51_CLASSES', 'HMDB51Dataset', 'parse_hmdb51_split_file', 'iter_hmdb51_split_file'
]

#: The 51 HMDB51 action classes, sorted (label = position); also PA-HMDB's actions.
HMDB51_CLASSES = tuple(sorted((
    'brush_hair', 'cartwheel', 'catch', 'chew', 'clap', 'climb', 'climb_stairs', 'dive',
    'draw_sword', 'dribble', 'drink', 'eat', 'fall_floor', 'fencing', 'flic_flac', 'golf',
    'handstand', 'hit', 'hug', 'jump', 'kick', 'kick_ball', 'kiss', 'laugh', 'pick', 'pour',
    'pullup', 'punch', 'push', 'pushup', 'ride_bike', 'ride_horse', 'run', 'shake_hands',
    'shoot_ball', 'shoot_bow', 'shoot_gun', 'sit', 'situp', 'smile', 'smoke', 'somersault',
    'stand', 'swing_baseball', 'sword', 'sword_exercise', 'talk', 'throw', 'turn', 'walk',
    'wave')))

_SUBSET_TAGS = {'train': 1, 'test': 2}


def iter_hmdb51_split_file(path: str,
                           on_bad_line: OnBadItem = None) -> Iterator[Tuple[int, str, int]]:
    """Yield ``(line number, video file name, tag)`` of a ``<class>_test_split<k>.txt`` file.

    Args:
        path (str): The split file.
        on_bad_line: ``None`` raises the first malformed line (not
            ``<video> <0|1|2>``, or a video listed twice); a callable receives each
            one's :class:`AnnotationError` and the line is dropped.
    """
    seen = set()
    for lineno, line in read_lines(path):
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ('0', '1', '2'):
            err = AnnotationError(path, f'expected "<video>.avi <0|1|2>", got {line!r}', lineno)
        elif fields[0] in seen:
            err = AnnotationError(path, f'video {fields[0]!r} is listed twice', lineno)
        else:
            seen.add(fields[0])
            yield lineno, fields[0], int(fields[1])
            continue
        report_bad_item(err, on_bad_line)


def parse_hmdb51_split_file(path: str) -> List[Tuple[str, int]]:
    """Parse one ``<class>_test_split<k>.txt`` file into ``(video file name, tag)`` pairs.

    Raises:
        AnnotationError: a line is not ``<video> <0|1|2>`` or a video repeats.
    """
    return [(video, tag) for _, video, tag in iter_hmdb51_split_file(path)]


@DATASETS.register_module()
class HMDB51Dataset(VideoBadInputMixin, VideoDataset):
    """HMDB51 videos of one official split (1-3) and subset (train/test).

    A drop-in for mmaction2's ``VideoDataset`` (same ``filename``/``label``
    fields) that reads the official per-class split files. The bad-input
    policy of :class:`~spact_mm.datasets.RobustVideoDataset` applies line by
    line; messages name the class's split file and the line.

    Args:
        ann_file (str): The folder holding the ``<class>_test_split<k>.txt`` files
            (``testTrainMulti_7030_splits``); relative to ``data_root`` if given.
        pipeline (list): Data transforms (mmaction2 video pipeline).
        split (int): Which of the three splits. Defaults to 1.
        subset (str): ``'train'`` (tag 1) or ``'test'`` (tag 2). Defaults to ``'train'``.
        classes (Sequence[str]): Class names; label = position. Defaults to
            :data:`HMDB51_CLASSES`. Every split file found must name one of them;
            classes without a file are simply absent (useful for subsets).
        data_prefix (dict): ``dict(video=<dir holding <class>/<video>.avi>)``.
        on_bad_input (str): ``'error'`` (default) or ``'skip'``.
        min_frames (int, optional): Fewest frames a video must have (default:
            the pipeline's ``clip_len``; 0 disables the check).
        check_files (bool): Check at load time that local videos exist and are
            not empty.
        **kwargs: Other ``VideoDataset`` arguments (``num_classes``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 split: int = 1,
                 subset: str = 'train',
                 classes: Sequence[str] = HMDB51_CLASSES,
                 data_prefix: dict = dict(video=''),
                 on_bad_input: str = 'error',
                 min_frames: Optional[int] = None,
                 check_files: bool = True,
                 **kwargs) -> None:
        self._init_video_policy(on_bad_input, min_frames, check_files)
        if split not in (1, 2, 3):
            raise ValueError(f'HMDB51 has splits 1, 2 and 3, not {split!r}')
        if subset not in _SUBSET_TAGS:
            raise ValueError(f"subset must be 'train' or 'test', not {subset!r}")
        self.split, self.subset, self.classes = split, subset, tuple(classes)
        super().__init__(ann_file, pipeline, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read every ``<class>_test_split<k>.txt`` file of the split folder."""
        pattern = re.compile(rf'^(?P<cls>.+)_test_split{self.split}\.txt$')
        files = sorted(f for f in list_dir_or_file(self.ann_file, list_dir=False)
                       if pattern.match(f))
        if not files:
            raise FileNotFoundError(
                f'no <class>_test_split{self.split}.txt files in {self.ann_file}')
        self._metainfo['classes'] = self.classes
        class_to_label = {name: i for i, name in enumerate(self.classes)}
        prefix: Optional[str] = self.data_prefix.get('video')
        wanted = _SUBSET_TAGS[self.subset]
        data_list = []
        with self._annotation_errors():
            for name in files:
                cls = pattern.match(name).group('cls')
                path = osp.join(self.ann_file, name)
                if cls not in class_to_label:
                    raise AnnotationError(path, f'{cls!r} is not an HMDB51 class')
                for lineno, video, tag in iter_hmdb51_split_file(path, self._bad_annotation):
                    if tag != wanted:
                        continue
                    rel, where = f'{cls}/{video}', f'{path}:{lineno}'
                    filename = osp.join(prefix, rel) if prefix else rel
                    label = class_to_label[cls]
                    if self._check_label(label, where) and self._check_video_file(filename,
                                                                                  where):
                        data_list.append(dict(filename=filename, label=label, ann_file=path,
                                              ann_line=lineno))
        return self._require_entries(data_list, f'no {self.subset} video in split {self.split}')
