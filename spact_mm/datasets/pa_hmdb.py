"""PA-HMDB: HMDB51 videos with frame-level human privacy attributes (Sec. 5.1, Table 1).

Format source: ``VITA-Group/PA-HMDB51`` (folder ``PrivacyAttributes``; the README
and the TPAMI paper of Wu et al. [41]): one JSON file per HMDB51 action,
``<action>.json``, mapping each video file name to its annotation::

    {"brushing_hair_brush_hair_f_nm_np2_ri_goo_1.avi": {
        "skin_color": [[0, 229, 2]],
        "face": [[0, 152, 1], [153, 160, 2]],
        "gender": [[0, 229, [1, 2]]],
        "nudity": [[0, 229, 0]],
        "relationship": [[0, 229, 1]],
        "review": true, "note": ""}}

Each attribute is a list of ``[start frame, end frame (inclusive), value]``
segments; ``value`` is an int, or a list of ints when several people differ
(``[1, 2]``: a male and a female). Values (README): skin colour 0 invisible,
1 white, 2 brown/yellow, 3 black (one README version also lists 4); face 0 none
(< 10 % visible), 1 partial, 2 whole (> 70 %); gender 0 cannot tell, 1 male,
2 female (one version lists 3 "coexisting"); nudity 0 long sleeves and pants,
1 short sleeves/shorts, 2 semi-nudity; relationship 0 cannot tell, 1 can tell.
``review`` and ``note`` are bookkeeping and ignored.

Binary labels: an attribute is present in a frame if its value there is not 0,
exactly as Wu et al.'s converter does (``data-preparation/PA_HMDB51`` in
``VITA-Group/Privacy-AdversarialLearning``: ``if value != 0`` -> the frame gets the
attribute's VISPR id), so the five classes line up with VISPR through
:data:`spact_mm.datasets.vispr.PA_HMDB_VISPR_GROUPS` (the HMDB51-VISPR -> PA-HMDB
protocol). A video-level label is the union over its annotated frames; frames
outside every segment of an attribute count as absent.

Actions: the JSON file stem is the HMDB51 class (label = its index in
:data:`~spact_mm.datasets.hmdb51.HMDB51_CLASSES`, so an HMDB51-trained f'_T
evaluates directly); videos are read from the HMDB51 layout
``<data_prefix.video>/<action>/<video>.avi``.

Bad input follows the policy of :mod:`spact_mm.datasets.bad_input` (a named
error by default, a counted skip with ``on_bad_input='skip'``), video by video:
a malformed entry (unknown key, a segment that is not ``[start, end, value]``,
a value out of range or not an int, e.g. 99, -1, ``'beard'``, ``'1'``), a
missing or empty video, a video that does not decode, is shorter than the clip
or has fewer frames than annotated (frame mode). A file that is not valid JSON
or not an object, or is named after an unknown action, is always an error.
"""
import glob
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.datasets import BaseActionDataset

from spact_mm.registry import DATASETS

from .annotation_io import AnnotationError, OnBadItem, line_of, load_json, report_bad_item
from .bad_input import VideoBadInputMixin
from .hmdb51 import HMDB51_CLASSES

__all__ = [
    'PA_HMDB_ATTRIBUTES', 'PA_HMDB_MAX_VALUE', 'PAHMDBDataset', 'parse_pa_hmdb_file',
    'iter_pa_hmdb_file', 'frame_labels'
]

#: The five privacy attributes, in class order (aligned with ``PA_HMDB_VISPR_GROUPS``).
PA_HMDB_ATTRIBUTES = ('skin_color', 'face', 'gender', 'nudity', 'relationship')
#: Largest value each attribute may take (see the module docstring for the meaning).
PA_HMDB_MAX_VALUE = dict(skin_color=4, face=2, gender=3, nudity=2, relationship=1)
_IGNORED_KEYS = ('review', 'note')

Segment = Tuple[int, int, Tuple[int, ...]]


def _check_segment(seg, attr: str) -> Segment:
    """Validate one ``[start, end, value]`` segment; returns it with values as a tuple."""
    if not isinstance(seg, list) or len(seg) != 3:
        raise ValueError(f'{attr}: a segment must be [start, end, value], got {seg!r}')
    start, end, value = seg
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        raise ValueError(f'{attr}: frame numbers must be integers, got {seg!r}')
    if not 0 <= start <= end:
        raise ValueError(f'{attr}: need 0 <= start <= end, got {seg!r}')
    values = tuple(value) if isinstance(value, list) else (value, )
    if not values or not all(isinstance(v, int) and not isinstance(v, bool)
                             and 0 <= v <= PA_HMDB_MAX_VALUE[attr] for v in values):
        raise ValueError(f'{attr}: value must be an int (or list of ints) in '
                         f'0..{PA_HMDB_MAX_VALUE[attr]}, got {value!r}')
    return start, end, values


def iter_pa_hmdb_file(path: str, on_bad_video: OnBadItem = None):
    """Yield ``(video file name, {attribute: segments}, line of its key)`` of one file.

    Args:
        path (str): A ``PrivacyAttributes/<action>.json`` file.
        on_bad_video: ``None`` raises the first malformed video entry; a callable
            receives each one's :class:`AnnotationError` and the video is dropped.

    Raises:
        AnnotationError: invalid JSON (with its line) or not an object (always), or
            a malformed video entry (unless ``on_bad_video`` is given).
    """
    annos, text = load_json(path)
    if not isinstance(annos, dict):
        raise AnnotationError(path, 'expected a JSON object {video name: attributes}', 1)
    for video, anno in annos.items():
        lineno = line_of(text, video)
        try:
            if not isinstance(anno, dict):
                raise ValueError('expected an object of attribute segments')
            unknown = set(anno) - set(PA_HMDB_ATTRIBUTES) - set(_IGNORED_KEYS)
            if unknown:
                raise ValueError(f'unknown keys {sorted(unknown)}')
            segments = {}
            for attr in PA_HMDB_ATTRIBUTES:
                segs = anno.get(attr, [])
                if not isinstance(segs, list):
                    raise ValueError(f'{attr}: expected a list of segments')
                segments[attr] = [_check_segment(s, attr) for s in segs]
        except ValueError as e:
            report_bad_item(AnnotationError(path, f'video {video!r}: {e}', lineno), on_bad_video)
            continue
        yield video, segments, lineno


def parse_pa_hmdb_file(path: str) -> Dict[str, Dict[str, List[Segment]]]:
    """Parse one ``PrivacyAttributes/<action>.json`` file.

    Returns:
        dict: ``{video file name: {attribute: [(start, end, values), ...]}}`` for the
        attributes of :data:`PA_HMDB_ATTRIBUTES` (``values`` is a tuple of ints).

    Raises:
        AnnotationError: invalid JSON (with its line), or a video entry that is not
            an object, has an unknown key or a malformed segment (with the line of
            the video's key).
    """
    return {video: segments for video, segments, _ in iter_pa_hmdb_file(path)}


def frame_labels(segments: Dict[str, List[Segment]],
                 attributes: Sequence[str] = PA_HMDB_ATTRIBUTES) -> np.ndarray:
    """Binary ``(num_frames, len(attributes))`` uint8 labels: value != 0 means present.

    ``num_frames`` is one past the last annotated frame of any attribute.
    """
    num_frames = max((end + 1 for segs in segments.values() for _, end, _ in segs), default=0)
    labels = np.zeros((num_frames, len(attributes)), dtype=np.uint8)
    for j, attr in enumerate(attributes):
        for start, end, values in segments.get(attr, []):
            labels[start:end + 1, j] = int(any(v != 0 for v in values))
    return labels


@DATASETS.register_module()
class PAHMDBDataset(VideoBadInputMixin, BaseActionDataset):
    """PA-HMDB videos (or frames) with action and privacy labels.

    Entries follow :class:`~spact_mm.datasets.privacy_datasets.PrivacyVideoDataset`:
    ``filename``, ``label`` (the HMDB51 action index, read by ``PackActionInputs``),
    ``gt_label`` (indices of the privacy attributes present, read by mmpretrain's
    ``PackInputs`` when frames feed a 2D attacker through ``ClipToImage``),
    ``privacy_label`` (the same as a float32 multi-hot vector, packed by
    ``PackActionPrivacyInputs``) and ``action`` (the class name).
    ``metainfo['classes']`` holds the privacy attributes
    (:data:`PA_HMDB_ATTRIBUTES`), ``metainfo['action_classes']`` the actions.

    Video mode (default): one entry per video; ``gt_label`` is the union over its
    frames and ``frame_labels`` the ``(num_frames, 5)`` uint8 per-frame labels.
    Frame mode (``frame_level=True``): one entry per annotated frame (every
    ``frame_interval``-th) with that frame's labels and ``frame_inds``,
    ``clip_len=1``, ``num_clips=1`` set, so mmaction2's ``DecordInit`` ->
    ``DecordDecode`` (no ``SampleFrames``) decodes exactly that frame: Wu et al.
    evaluate privacy per frame.

    The bad-input policy of :class:`~spact_mm.datasets.RobustVideoDataset`
    applies video by video; messages name the action's JSON file and the line
    of the video's key.

    Args:
        ann_file (str): The ``PrivacyAttributes`` folder (every ``*.json`` in it) or
            one ``<action>.json`` file; relative to ``data_root`` if given.
        pipeline (list): Data transforms.
        data_prefix (dict): ``dict(video=<HMDB51 video dir>)``.
        frame_level (bool): One entry per frame instead of per video.
        frame_interval (int): Keep every n-th annotated frame in frame mode.
        action_classes (Sequence[str]): Action classes (label = position).
            Defaults to :data:`~spact_mm.datasets.hmdb51.HMDB51_CLASSES`.
        on_bad_input (str): ``'error'`` (default) or ``'skip'``.
        min_frames (int, optional): Fewest frames a video must have (default:
            the pipeline's ``clip_len``; 0 disables the check).
        check_files (bool): Check at load time that local videos exist and are
            not empty.
        **kwargs: Other ``BaseActionDataset`` arguments (``num_classes``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 data_prefix: dict = dict(video=''),
                 frame_level: bool = False,
                 frame_interval: int = 1,
                 action_classes: Sequence[str] = HMDB51_CLASSES,
                 on_bad_input: str = 'error',
                 min_frames: Optional[int] = None,
                 check_files: bool = True,
                 **kwargs) -> None:
        self._init_video_policy(on_bad_input, min_frames, check_files)
        if frame_interval < 1:
            raise ValueError('frame_interval must be >= 1')
        self.frame_level, self.frame_interval = frame_level, frame_interval
        self.action_classes = tuple(action_classes)
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix, **kwargs)

    def _files(self) -> List[str]:
        if osp.isdir(self.ann_file):
            files = sorted(glob.glob(osp.join(self.ann_file, '*.json')))
            if not files:
                raise FileNotFoundError(f'no <action>.json files in {self.ann_file}')
            return files
        return [self.ann_file]

    @staticmethod
    def _privacy(base: dict, present: np.ndarray) -> dict:
        """Add ``gt_label`` (indices) and ``privacy_label`` (multi-hot) to ``base``."""
        return dict(base, gt_label=np.flatnonzero(present).tolist(),
                    privacy_label=present.astype(np.float32))

    def load_data_list(self) -> List[dict]:
        """Parse every action file into video (or frame) entries."""
        self._metainfo.update(classes=PA_HMDB_ATTRIBUTES, action_classes=self.action_classes)
        class_to_label = {name: i for i, name in enumerate(self.action_classes)}
        prefix: Optional[str] = self.data_prefix.get('video')
        data_list = []
        with self._annotation_errors():
            for path in self._files():
                data_list.extend(self._load_file(path, class_to_label, prefix))
        return self._require_entries(data_list, 'no annotated video')

    def _load_file(self, path: str, class_to_label: Dict[str, int],
                   prefix: Optional[str]) -> List[dict]:
        """The video (or frame) entries of one ``<action>.json`` file."""
        action = osp.splitext(osp.basename(path))[0]
        if action not in class_to_label:
            raise AnnotationError(path, f'file name {action!r} is not an action class')
        data_list = []
        for video, segments, lineno in iter_pa_hmdb_file(path, self._bad_annotation):
            rel, where = f'{action}/{video}', f'{path}:{lineno}'
            filename = osp.join(prefix, rel) if prefix else rel
            label = class_to_label[action]
            if not (self._check_label(label, where) and self._check_video_file(filename, where)):
                continue
            labels = frame_labels(segments)
            base = dict(filename=filename, label=label, action=action, ann_file=path,
                        ann_line=lineno)
            if not self.frame_level:
                data_list.append(self._privacy(dict(base, frame_labels=labels),
                                               labels.any(axis=0)))
                continue
            for t in range(0, len(labels), self.frame_interval):
                data_list.append(self._privacy(
                    dict(base, frame_index=t, frame_inds=np.array([t]), clip_len=1,
                         num_clips=1, frame_interval=1), labels[t]))
        return data_list
