"""HVU / P-HVU: multi-label actions, objects and scenes (Sec. 5.1, Tables 1 and 2).

Format source: the official HVU release (``holistic-video-understanding/HVU-Dataset``,
Diba et al., ECCV 2020), read as mmaction2 reads it (``tools/data/hvu``:
``download.py``, ``parse_tag_list.py``, ``generate_file_list.py``):

* ``HVU_Train_V1.0.csv`` / ``HVU_Val_V1.0.csv``: header
  ``Tags,youtube_id,time_start,time_end``, then one clip per line; ``Tags`` joins
  the clip's tags with ``|`` (``dog|pet|playing_with_dog|grass|...``), times are in
  seconds;
* ``HVU_Tags_Categories_V1.0.csv``: header ``Tag,Category``, one tag per line,
  category one of ``action, attribute, concept, event, object, scene``.

The class index of a tag is its position in the sorted tag list of its category
(as mmaction2's ``parse_tag_list.py`` builds ``hvu_tags.json``), and a clip's
video is ``<youtube_id>_<start*10:06d>_<end*10:06d>.mp4`` (mmaction2's
``download.py`` names trimmed clips so; ``filename_tmpl`` changes it).

P-HVU. SPAct's P-HVU split files are not public. Sec. 5.1 says it is "a subset of
action-object-scene labels based on their availability", with 739 actions, 1678
objects and 248 scenes and 245,212 / 16,012 train / test videos. The class counts
equal HVU's full action, object and scene vocabularies, so the subset is one of
*videos*, not of classes; we select the clips that carry at least one action, one
object and one scene tag (:class:`PHVUDataset`, ``required_categories``), from the
official train CSV for training and the val CSV for testing (HVU's test labels
are not public). Clips that could not be downloaded are dropped by mmaction2's
list generation (``tools/data/p_hvu/README.md``), so counts depend on what you
download. This reading of Sec. 5.1 is ours, not confirmed by the authors.
"""
import csv
import io
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmaction.datasets import BaseActionDataset

from spact_mm.registry import DATASETS

from .annotation_io import AnnotationError, OnBadItem, multi_hot, read_text, report_bad_item
from .bad_input import VideoBadInputMixin

__all__ = [
    'HVU_CATEGORIES', 'P_HVU_CATEGORIES', 'HVUDataset', 'PHVUDataset', 'parse_hvu_categories',
    'parse_hvu_csv', 'hvu_clip_name'
]

#: The six HVU tag categories.
HVU_CATEGORIES = ('action', 'attribute', 'concept', 'event', 'object', 'scene')
#: The categories every P-HVU clip must carry.
P_HVU_CATEGORIES = ('action', 'object', 'scene')
_CSV_HEADER = ('Tags', 'youtube_id', 'time_start', 'time_end')


def _csv_rows(path: str):
    """Yield ``(line number, fields)`` of a CSV file, skipping blank lines."""
    reader = csv.reader(io.StringIO(read_text(path)))
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                yield reader.line_num, [f.strip() for f in fields]
    except csv.Error as e:
        raise AnnotationError(path, f'malformed CSV: {e}', reader.line_num) from e


def parse_hvu_categories(path: str) -> Dict[str, List[str]]:
    """Parse ``HVU_Tags_Categories_V1.0.csv`` into ``{category: sorted tags}``.

    Raises:
        AnnotationError: wrong header, a row that is not ``<tag>,<category>``, an
            unknown category or a tag listed twice.
    """
    rows = _csv_rows(path)
    header = next(rows, None)
    if header is None or tuple(header[1]) != ('Tag', 'Category'):
        raise AnnotationError(path, 'expected the header "Tag,Category"', 1)
    by_category: Dict[str, List[str]] = {c: [] for c in HVU_CATEGORIES}
    seen = set()
    for lineno, fields in rows:
        if len(fields) != 2 or not fields[0]:
            raise AnnotationError(path, f'expected "<tag>,<category>", got {fields}', lineno)
        tag, category = fields
        if category not in by_category:
            raise AnnotationError(
                path, f'unknown category {category!r} (expected one of {HVU_CATEGORIES})',
                lineno)
        if tag in seen:
            raise AnnotationError(path, f'tag {tag!r} is listed twice', lineno)
        seen.add(tag)
        by_category[category].append(tag)
    return {c: sorted(tags) for c, tags in by_category.items()}


def _hvu_clip(path: str, lineno: int, fields: List[str],
              tag_to_category: Dict[str, str]) -> dict:
    """One clip row -> ``dict(tags, youtube_id, time_start, time_end, lineno)``."""
    if len(fields) != 4:
        raise AnnotationError(
            path, f'expected 4 fields (Tags,youtube_id,time_start,time_end), '
            f'got {len(fields)}', lineno)
    tags_field, youtube_id, start, end = fields
    tags = [t for t in tags_field.split('|') if t]
    if not tags or not youtube_id:
        raise AnnotationError(path, 'empty Tags or youtube_id', lineno)
    unknown = [t for t in tags if t not in tag_to_category]
    if unknown:
        raise AnnotationError(path, f'tags not in the category file: {unknown}', lineno)
    try:
        t0, t1 = float(start), float(end)
    except ValueError as e:
        raise AnnotationError(path, f'times must be numbers, got {start!r}, {end!r}',
                              lineno) from e
    if not 0 <= t0 < t1:
        raise AnnotationError(path, f'need 0 <= time_start < time_end, got {t0}, {t1}',
                              lineno)
    return dict(tags=tags, youtube_id=youtube_id, time_start=t0, time_end=t1, lineno=lineno)


def parse_hvu_csv(path: str, tag_to_category: Dict[str, str],
                  on_bad_line: OnBadItem = None) -> List[dict]:
    """Parse ``HVU_{Train,Val}_V1.0.csv``.

    Args:
        path (str): The clip CSV.
        tag_to_category (dict): ``{tag: category}`` from the category file.
        on_bad_line: ``None`` raises the first malformed row; a callable receives
            each one's :class:`AnnotationError` and the row is dropped.

    Returns:
        list[dict]: per clip ``tags`` (list of str), ``youtube_id``, ``time_start``,
        ``time_end`` (floats, seconds) and ``lineno``.

    Raises:
        AnnotationError: wrong header (always), or a row without 4 fields, an empty
            tag list or id, a tag not in the category file, or times that are not
            numbers with ``start < end`` (unless ``on_bad_line`` is given).
    """
    rows = _csv_rows(path)
    header = next(rows, None)
    if header is None or tuple(header[1]) != _CSV_HEADER:
        raise AnnotationError(path, f'expected the header "{",".join(_CSV_HEADER)}"', 1)
    clips = []
    for lineno, fields in rows:
        try:
            clips.append(_hvu_clip(path, lineno, fields, tag_to_category))
        except AnnotationError as e:
            report_bad_item(e, on_bad_line)
    return clips


def hvu_clip_name(youtube_id: str, time_start: float, time_end: float,
                  filename_tmpl: str = '{youtube_id}_{start:06d}_{end:06d}.mp4') -> str:
    """File name of a trimmed clip, times in tenths of a second (mmaction2's convention)."""
    return filename_tmpl.format(youtube_id=youtube_id, start=int(time_start * 10),
                                end=int(time_end * 10))


@DATASETS.register_module()
class HVUDataset(VideoBadInputMixin, BaseActionDataset):
    """HVU clips with multi-hot labels over one tag category.

    Each entry has ``filename``, ``label`` (tag indices of ``label_category``,
    turned into a multi-hot vector by mmaction2's ``BaseActionDataset`` since
    ``multi_class=True``), ``tags`` (``{category: indices}`` for every category the
    clip carries), ``youtube_id``, ``time_start`` and ``time_end``. With a
    ``privacy_category`` (``'object'`` or ``'scene'`` for P-HVU), entries also carry
    that category's labels as ``gt_label`` (indices, for mmpretrain's ``PackInputs``
    after ``ClipToImage``) and ``privacy_label`` (float32 multi-hot, for
    ``PackActionPrivacyInputs``), like
    :class:`~spact_mm.datasets.privacy_datasets.PrivacyVideoDataset`.
    ``metainfo['classes']`` holds the sorted tags of ``privacy_category`` if given,
    else of ``label_category``; ``metainfo['action_classes']`` those of
    ``label_category`` and ``metainfo['categories']`` every category's tags.
    The bad-input policy of :class:`~spact_mm.datasets.RobustVideoDataset`
    applies row by row (see the module docstring).

    Args:
        ann_file (str): ``HVU_Train_V1.0.csv`` or ``HVU_Val_V1.0.csv``.
        category_file (str): ``HVU_Tags_Categories_V1.0.csv``. Both files are
            relative to ``data_root`` if it is given.
        pipeline (list): Data transforms.
        label_category (str): Category of ``label`` (f_T's target). Defaults to
            ``'action'``.
        privacy_category (str, optional): Category of ``gt_label`` and
            ``privacy_label`` (the attacker's target), e.g. ``'object'``.
        required_categories (Sequence[str]): Keep only clips with at least one tag
            in each of these categories. Defaults to ``()`` (every clip).
        data_prefix (dict): ``dict(video=<folder of trimmed clips>)``.
        filename_tmpl (str): Clip file name (see :func:`hvu_clip_name`).
        on_bad_input (str): ``'error'`` (default) or ``'skip'``.
        min_frames (int, optional): Fewest frames a clip must have (default:
            the pipeline's ``clip_len``; 0 disables the check).
        check_files (bool): Check at load time that local clips exist and are
            not empty.
        **kwargs: Other ``BaseActionDataset`` arguments.
    """

    def __init__(self,
                 ann_file: str,
                 category_file: str,
                 pipeline: List[Union[dict, Callable]],
                 label_category: str = 'action',
                 privacy_category: Optional[str] = None,
                 required_categories: Sequence[str] = (),
                 data_prefix: dict = dict(video=''),
                 filename_tmpl: str = '{youtube_id}_{start:06d}_{end:06d}.mp4',
                 on_bad_input: str = 'error',
                 min_frames: Optional[int] = None,
                 check_files: bool = True,
                 **kwargs) -> None:
        self._init_video_policy(on_bad_input, min_frames, check_files)
        bad = [c for c in (label_category, privacy_category, *required_categories)
               if c is not None and c not in HVU_CATEGORIES]
        if bad:
            raise ValueError(f'unknown HVU categories {bad} (expected {HVU_CATEGORIES})')
        data_root = kwargs.get('data_root') or ''
        if data_root and not osp.isabs(category_file):
            category_file = osp.join(data_root, category_file)
        self.category_file = category_file
        with self._annotation_errors():
            self.categories = parse_hvu_categories(category_file)
        self.label_category, self.privacy_category = label_category, privacy_category
        self.required_categories = tuple(required_categories)
        self.filename_tmpl = filename_tmpl
        kwargs.update(multi_class=True, num_classes=len(self.categories[label_category]))
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the clip CSV and keep the clips that carry every required category."""
        self._metainfo.update(
            classes=tuple(self.categories[self.privacy_category or self.label_category]),
            action_classes=tuple(self.categories[self.label_category]),
            categories={c: tuple(t) for c, t in self.categories.items()})
        tag_to_category = {t: c for c, tags in self.categories.items() for t in tags}
        tag_index = {t: i for tags in self.categories.values() for i, t in enumerate(tags)}
        prefix: Optional[str] = self.data_prefix.get('video')
        data_list = []
        with self._annotation_errors():
            clips = parse_hvu_csv(self.ann_file, tag_to_category, self._bad_annotation)
        for clip in clips:
            tags: Dict[str, List[int]] = {}
            for t in dict.fromkeys(clip['tags']):  # drop repeated tags, keep order
                tags.setdefault(tag_to_category[t], []).append(tag_index[t])
            if not all(c in tags for c in self.required_categories):
                continue
            name = hvu_clip_name(clip['youtube_id'], clip['time_start'], clip['time_end'],
                                 self.filename_tmpl)
            filename = osp.join(prefix, name) if prefix else name
            if not self._check_video_file(filename, f'{self.ann_file}:{clip["lineno"]}'):
                continue
            info = dict(
                filename=filename,
                label=sorted(tags.get(self.label_category, [])),
                tags={c: sorted(v) for c, v in tags.items()},
                youtube_id=clip['youtube_id'], time_start=clip['time_start'],
                time_end=clip['time_end'], ann_line=clip['lineno'])
            if self.privacy_category is not None:
                info['gt_label'] = sorted(tags.get(self.privacy_category, []))
                info['privacy_label'] = multi_hot(
                    info['gt_label'], len(self.categories[self.privacy_category]))
            data_list.append(info)
        return self._require_entries(
            data_list, f'no clip with tags in every category of {self.required_categories}'
            if self.required_categories else 'no clip')


@DATASETS.register_module()
class PHVUDataset(HVUDataset):
    """P-HVU: :class:`HVUDataset` restricted to clips with action, object and scene tags.

    See the module docstring for how this selection reads Sec. 5.1.
    """

    def __init__(self, *args, required_categories: Sequence[str] = P_HVU_CATEGORIES,
                 **kwargs) -> None:
        super().__init__(*args, required_categories=required_categories, **kwargs)
