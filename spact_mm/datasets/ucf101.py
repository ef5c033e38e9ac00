"""UCF101 read from its official split files (Sec. 5.1; the action side of Tables 1-6).

Format source: the official archive ``UCF101TrainTestSplits-RecognitionTask.zip``
(https://www.crcv.ucf.edu/data/UCF101.php, unpacked by mmaction2's
``tools/data/ucf101/download_annotations.sh`` into ``data/ucf101/annotations``),
whose parsing we follow from mmaction2's ``tools/data/parse_file_list.py``
(``parse_ucf101_splits``):

* ``classInd.txt``: ``<1-based index> <ClassName>``, one class per line
  (``1 ApplyEyeMakeup`` ... ``101 YoYo``);
* ``trainlist0{1,2,3}.txt``: ``<ClassName>/<video>.avi <1-based index>``
  (``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``);
* ``testlist0{1,2,3}.txt``: ``<ClassName>/<video>.avi`` (no label; the class is
  the directory name).

Labels are 0-based (``index - 1``), the class of a video is its directory name
(for train lists the given index must agree), and videos are looked up as
``<data_prefix.video>/<ClassName>/<video>.avi``, the layout of the official
``UCF101.rar`` and of mmaction2's ``data/ucf101/videos``. mmaction2 itself needs
a generated list file (``build_file_list.py``); :class:`UCF101Dataset` reads the
official files directly, so both give the same labels.

Bad input follows the policy of :mod:`spact_mm.datasets.bad_input` (a named
error by default, a counted skip with ``on_bad_input='skip'``): a malformed
split line, a missing or empty video, a video that does not decode or is
shorter than the clip. A malformed ``classInd.txt`` is always an error (a
skipped class would shift every label after it).
"""
import os.path as osp
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from mmaction.datasets import VideoDataset

from spact_mm.registry import DATASETS

from .annotation_io import AnnotationError, OnBadItem, read_lines, report_bad_item
from .bad_input import VideoBadInputMixin

__all__ = ['UCF101Dataset', 'parse_ucf101_class_index', 'parse_ucf101_split', 'iter_ucf101_split']


def parse_ucf101_class_index(path: str) -> List[str]:
    """Parse ``classInd.txt`` into the class names, ordered by their (1-based) index.

    Raises:
        AnnotationError: a line is not ``<index> <name>``, or the indices are not
            ``1, 2, ..., N`` in order, or a name repeats.
    """
    classes: List[str] = []
    for lineno, line in read_lines(path):
        fields = line.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise AnnotationError(path, f'expected "<index> <ClassName>", got {line!r}', lineno)
        index, name = int(fields[0]), fields[1]
        if index != len(classes) + 1:
            raise AnnotationError(
                path, f'class indices must be 1, 2, 3, ... in order; got {index} where '
                f'{len(classes) + 1} was expected', lineno)
        if name in classes:
            raise AnnotationError(path, f'class {name!r} is listed twice', lineno)
        classes.append(name)
    if not classes:
        raise AnnotationError(path, 'no classes found')
    return classes


def _ucf101_split_line(path: str, lineno: int, line: str,
                       class_to_label: dict) -> Tuple[str, int]:
    """One split line -> ``(relative video path, 0-based label)``; raises AnnotationError."""
    fields = line.split()
    if len(fields) > 2:
        raise AnnotationError(
            path, f'expected "<Class>/<video>.avi [<index>]", got {line!r}', lineno)
    rel = fields[0].replace('\\', '/')
    class_name = osp.dirname(rel)
    if not class_name or '/' in class_name:
        raise AnnotationError(path, f'expected "<Class>/<video>", got {rel!r}', lineno)
    if class_name not in class_to_label:
        raise AnnotationError(path, f'class {class_name!r} is not in classInd.txt', lineno)
    label = class_to_label[class_name]
    if len(fields) == 2:
        if not fields[1].isdigit():
            raise AnnotationError(path, f'class index {fields[1]!r} is not a number', lineno)
        if int(fields[1]) != label + 1:
            raise AnnotationError(
                path, f'index {fields[1]} disagrees with directory {class_name!r} '
                f'(index {label + 1} in classInd.txt)', lineno)
    return rel, label


def iter_ucf101_split(path: str, classes: Sequence[str],
                      on_bad_line: OnBadItem = None) -> Iterator[Tuple[int, str, int]]:
    """Yield ``(line number, relative video path, 0-based label)`` of a split file.

    Args:
        path (str): The split file.
        classes (Sequence[str]): Class names from :func:`parse_ucf101_class_index`.
        on_bad_line: ``None`` raises the first malformed line; a callable receives
            each one's :class:`AnnotationError` and the line is dropped.
    """
    class_to_label = {name: i for i, name in enumerate(classes)}
    for lineno, line in read_lines(path):
        try:
            rel, label = _ucf101_split_line(path, lineno, line, class_to_label)
        except AnnotationError as e:
            report_bad_item(e, on_bad_line)
            continue
        yield lineno, rel, label


def parse_ucf101_split(path: str, classes: Sequence[str]) -> List[Tuple[str, int]]:
    """Parse a ``trainlist0N.txt`` / ``testlist0N.txt`` file.

    Args:
        path (str): The split file.
        classes (Sequence[str]): Class names from :func:`parse_ucf101_class_index`.

    Returns:
        list[tuple[str, int]]: ``(relative video path, 0-based label)`` per line.

    Raises:
        AnnotationError: a line has more than two fields, a path without a class
            directory, an unknown class, or an index that disagrees with its directory.
    """
    return [(rel, label) for _, rel, label in iter_ucf101_split(path, classes)]


@DATASETS.register_module()
class UCF101Dataset(VideoBadInputMixin, VideoDataset):
    """UCF101 videos listed by an official split file (``trainlist01.txt``, ``testlist01.txt``).

    A drop-in for mmaction2's ``VideoDataset`` (same ``filename``/``label``
    fields, same pipelines) that reads the official split and class-index files
    instead of a generated list. ``metainfo['classes']`` holds the class names.
    The bad-input policy of :class:`~spact_mm.datasets.RobustVideoDataset`
    applies line by line (malformed lines, labels beyond ``num_classes``,
    missing or empty videos at load time; undecodable or too short videos at
    fetch time).

    Args:
        ann_file (str): A ``trainlist0N.txt`` or ``testlist0N.txt`` file.
        pipeline (list): Data transforms (mmaction2 video pipeline).
        class_index_file (str): ``classInd.txt``. Like ``ann_file``, a relative
            path is taken relative to ``data_root`` when that is given.
        data_prefix (dict): ``dict(video=<dir holding <Class>/<video>.avi>)``.
        on_bad_input (str): ``'error'`` (default) or ``'skip'``.
        min_frames (int, optional): Fewest frames a video must have (default:
            the pipeline's ``clip_len``; 0 disables the check).
        check_files (bool): Check at load time that local videos exist and are
            not empty.
        **kwargs: Other ``VideoDataset`` arguments (``data_root``, ``test_mode``,
            ``num_classes``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 class_index_file: str,
                 data_prefix: dict = dict(video=''),
                 on_bad_input: str = 'error',
                 min_frames: Optional[int] = None,
                 check_files: bool = True,
                 **kwargs) -> None:
        self._init_video_policy(on_bad_input, min_frames, check_files)
        self.class_index_file = class_index_file
        super().__init__(ann_file, pipeline, data_prefix=data_prefix, **kwargs)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.data_root and not osp.isabs(self.class_index_file):
            self.class_index_file = osp.join(self.data_root, self.class_index_file)

    def load_data_list(self) -> List[dict]:
        """Parse the class index and split files into ``dict(filename, label)`` entries."""
        with self._annotation_errors():
            classes = parse_ucf101_class_index(self.class_index_file)
            self._metainfo['classes'] = tuple(classes)
            prefix: Optional[str] = self.data_prefix.get('video')
            data_list = []
            for lineno, rel, label in iter_ucf101_split(self.ann_file, classes,
                                                        self._bad_annotation):
                where = f'{self.ann_file}:{lineno}'
                filename = osp.join(prefix, rel) if prefix else rel
                if self._check_label(label, where) and self._check_video_file(filename, where):
                    data_list.append(dict(filename=filename, label=label, ann_line=lineno))
        return self._require_entries(data_list, 'the split file is empty')
