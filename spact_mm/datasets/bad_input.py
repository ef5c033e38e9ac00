"""Datasets with a bad-input policy: a clear error by default, counted skips on request.

Policy (see docs/reliability.md): every broken item (a missing, empty,
truncated or non-video file, a video shorter than the clip, an undecodable
image, a malformed annotation line or entry, an empty annotation file) either

- raises :class:`BadInputError` whose message names the annotation file, the
  line (or entry) and the media file (``on_bad_input='error'``, the default),
  also from inside a dataloader worker (torch re-raises it in the main
  process with that message), or
- with ``on_bad_input='skip'``, is logged (a warning naming file and line) and
  counted, and the sample is replaced: items found broken while reading the
  annotation file are dropped from the list, items found broken while loading
  a sample are replaced by mmengine's re-fetch of another random index.
  :class:`~spact_mm.engine.hooks.BadInputReportHook` reports the counts at the
  end of each epoch. Nothing is dropped silently.

An annotation file with no usable entry is always an error. In ``test_mode``
(validation, testing) a sample that fails to load is always an error, because
skipping would change the evaluated set.
"""
import multiprocessing as mp
import os
import os.path as osp
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

from mmaction.datasets import VideoDataset
from mmengine.logging import print_log
from mmpretrain.datasets import MultiLabelDataset

from spact_mm.registry import DATASETS

from .annotation_io import AnnotationError, load_json, read_text

POLICIES = ('error', 'skip')
_SKIP_HINT = "  (set on_bad_input='skip' to skip such items)"


class BadInputError(RuntimeError):
    """A broken dataset item; the message names the file and the annotation line."""


class BadAnnotationError(AnnotationError, BadInputError):
    """A malformed line or entry of a real dataset's annotation file.

    Both an :class:`~spact_mm.datasets.annotation_io.AnnotationError` (the
    message starts with ``<file>:<line>:``, as the parsers report it) and a
    :class:`BadInputError` (what every dataset with the policy raises).
    """


class BadInputPolicyMixin:
    """The error-or-skip policy, shared by the datasets below.

    Subclasses call :meth:`_init_policy` before ``super().__init__`` and record
    ``ann_line`` (a line or entry number; ``ann_unit`` says which) in each data
    info, and ``ann_file`` where the item's annotation file is not
    ``self.ann_file`` (datasets read from several files). ``media_key`` names
    the data-info field holding the media file.
    """

    on_bad_input: str = 'error'
    check_files: bool = True
    ann_unit = 'line'
    media_key = 'filename'

    def _init_policy(self, on_bad_input: str) -> None:
        if on_bad_input not in POLICIES:
            raise ValueError(f'on_bad_input must be one of {POLICIES}, got {on_bad_input!r}')
        self.on_bad_input = on_bad_input
        self.skipped_at_load: List[str] = []
        # Shared with forked/spawned dataloader workers, so the main process sees
        # the skips that happen inside workers.
        self._fetch_skips = mp.get_context().Value('q', 0)

    def _describe(self, info: Dict[str, Any]) -> str:
        """``<media> (<unit> <n> of <annotation file>)``: how messages name an item."""
        ann_file = info.get('ann_file', self.ann_file)
        line = info.get('ann_line')
        where = ann_file if line is None else f'{self.ann_unit} {line} of {ann_file}'
        return f'{info.get(self.media_key, "?")} ({where})'

    def _skip_at_load(self, msg: str) -> None:
        self.skipped_at_load.append(msg)
        print_log(f'skipping bad input: {msg}', logger='current', level=30)

    def _bad_at_load(self, where: str, reason: str) -> None:
        """A broken annotation line/entry or media file found while reading the list."""
        msg = f'{where}: {reason}'
        if self.on_bad_input == 'error':
            raise BadInputError(msg + _SKIP_HINT)
        self._skip_at_load(msg)

    def _bad_annotation(self, err: AnnotationError) -> None:
        """A malformed line or entry reported by a parser of :mod:`.annotation_io`.

        The ``on_bad_item`` callback of the real datasets' parsers: raises
        :class:`BadAnnotationError` (``'error'``), or logs and counts the item,
        which the parser then drops (``'skip'``).
        """
        if self.on_bad_input == 'error':
            raise BadAnnotationError(err.path, err.reason + _SKIP_HINT, err.lineno) from err
        self._skip_at_load(str(err))

    @contextmanager
    def _annotation_errors(self) -> Iterator[None]:
        """Re-raise a file-level :class:`AnnotationError` (bad header, encoding, JSON)
        as :class:`BadAnnotationError`, always an error: no item can be skipped."""
        try:
            yield
        except BadAnnotationError:
            raise
        except AnnotationError as e:
            raise BadAnnotationError(e.path, e.reason, e.lineno) from e

    def _check_local_file(self, path: str, where: str, what: str) -> bool:
        """Whether the local media file ``path`` exists and is not empty; else a bad item.

        Args:
            path: The media file (remote paths, ``s3://...``, are not checked).
            where: The annotation file and line, for the message.
            what: What the file is (``'video file'``, ``'image'``).
        """
        if self.check_files and _local(path):
            if not osp.isfile(path):
                self._bad_at_load(where, f'{what} not found: {path}')
                return False
            if osp.getsize(path) == 0:
                self._bad_at_load(where, f'{what} is empty (0 bytes): {path}')
                return False
        return True

    def _require_entries(self, data_list: List[dict], empty: str) -> List[dict]:
        """Return ``data_list``, or raise when nothing usable was read.

        Args:
            data_list: The parsed entries.
            empty: What an annotation file with no entry at all is called.
        """
        if not data_list:
            raise BadInputError(
                f'{self.ann_file}: no usable entry' +
                (f' ({len(self.skipped_at_load)} skipped)' if self.skipped_at_load
                 else f' ({empty})'))
        return data_list

    def _bad_at_fetch(self, info: Dict[str, Any], err: BaseException) -> None:
        msg = f'{self._describe(info)}: {type(err).__name__}: {err}'
        if self.on_bad_input == 'error' or self.test_mode:
            hint = '' if self.test_mode else _SKIP_HINT
            raise BadInputError(msg + hint) from err
        with self._fetch_skips.get_lock():
            self._fetch_skips.value += 1
        print_log(f'skipping bad input: {msg}', logger='current', level=30)

    @property
    def num_skipped_at_fetch(self) -> int:
        """Samples skipped while loading so far (all workers together)."""
        return int(self._fetch_skips.value)

    def _check_sample(self, results: dict) -> None:
        """Checks run on the intermediate results of the pipeline (none by default)."""

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline; a failure becomes :class:`BadInputError` or a counted skip."""
        info = self.get_data_info(idx)
        try:
            results = info
            for t in self.pipeline.transforms:
                results = t(results)
                if results is None:  # a transform's own "skip": mmengine re-fetches
                    return None
                self._check_sample(results)
            return results
        except BadInputError:
            raise
        except Exception as e:  # any decoder / transform failure: name the file
            self._bad_at_fetch(info, e)
            return None


def _local(path: str) -> bool:
    return '://' not in path


class VideoBadInputMixin(BadInputPolicyMixin):
    """The policy's video checks, shared by every video dataset of the project.

    At load time (:meth:`_check_video_entry`): the label is an integer in
    ``[0, num_classes)`` when ``num_classes`` is known, the local video exists
    and is not empty. At fetch time: the file decodes (through
    :meth:`BadInputPolicyMixin.prepare_data`) and has at least ``min_frames``
    frames, and frames given by the annotation (``frame_inds``, PA-HMDB's
    frame mode) exist in the video. Subclasses call :meth:`_init_video_policy`
    before ``super().__init__`` and store ``ann_line`` (a line or entry number)
    in each data info; ``ann_unit`` says which (``'line'`` or ``'entry'``).
    """

    def _init_video_policy(self, on_bad_input: str = 'error', min_frames: Optional[int] = None,
                           check_files: bool = True) -> None:
        self._init_policy(on_bad_input)
        self.check_files = check_files
        self._min_frames_arg = min_frames

    @property
    def min_frames(self) -> int:
        """Fewest frames a video must have: the argument, else the pipeline's ``clip_len``."""
        if self._min_frames_arg is not None:
            return self._min_frames_arg
        for t in self.pipeline.transforms:
            if type(t).__name__ in ('SampleFrames', 'UniformSample', 'UniformSampleFrames'):
                return int(getattr(t, 'clip_len', 0) or 0)
        return 0

    def _read_annotation_text(self) -> str:
        """The annotation file's text; a missing or non-UTF-8 file is a named error."""
        if _local(self.ann_file) and not osp.isfile(self.ann_file):
            raise BadInputError(f'annotation file not found: {self.ann_file}')
        try:
            return read_text(self.ann_file)
        except AnnotationError as e:
            raise BadInputError(str(e)) from e

    def _check_label(self, label: Any, where: str, what: str = 'label',
                     num_classes: Optional[int] = None) -> bool:
        """Whether ``label`` is an int in ``[0, num_classes)``; else a bad item."""
        num_classes = self.num_classes if num_classes is None else num_classes
        if isinstance(label, bool) or not isinstance(label, int):
            self._bad_at_load(where, f'{what} is not an integer: {label!r}')
            return False
        if label < 0 or (num_classes is not None and label >= num_classes):
            rng = f'[0, {num_classes})' if num_classes is not None else '>= 0'
            self._bad_at_load(where, f'{what} {label} out of range {rng}')
            return False
        return True

    def _check_video_file(self, filename: str, where: str) -> bool:
        """Whether the local ``filename`` exists and is not empty; else a bad item."""
        return self._check_local_file(filename, where, 'video file')

    def _check_sample(self, results: dict) -> None:
        if 'total_frames' in results and not results.get('_frames_checked', False):
            n, need = int(results['total_frames']), self.min_frames
            if need and n < need:
                raise ValueError(f'video has {n} frames, fewer than the clip length '
                                 f'{need} (min_frames)')
            # Right after the decoder's init, frame_inds can only come from the
            # annotation (PA-HMDB frames); a sampler's come later and are in range.
            inds = results.get('frame_inds')
            if inds is not None and len(inds) and int(max(inds)) >= n:
                raise ValueError(f'annotated frame {int(max(inds))} is beyond the '
                                 f'video\'s {n} frames')
            results['_frames_checked'] = True


@DATASETS.register_module()
class RobustVideoDataset(VideoBadInputMixin, VideoDataset):
    """mmaction2 ``VideoDataset`` with the bad-input policy of this module.

    Same annotation format (``path label`` per line, ``path l1 l2 ...`` with
    ``multi_class``). Checked while reading the list: UTF-8 text (a byte-order
    mark is dropped), number of fields, integer labels, labels in
    ``[0, num_classes)`` (when ``num_classes`` is given: the configs set it to
    the head's), and that each local video file exists and is not empty.
    Checked while loading a sample: that the file decodes (truncated and
    non-video files fail in the decoder) and has at least ``min_frames``
    frames. Blank lines are ignored.

    Args:
        ann_file: Annotation file.
        pipeline: Processing pipeline.
        on_bad_input: ``'error'`` (default) or ``'skip'``.
        min_frames: Fewest frames a video must have. ``None``: the
            ``clip_len`` of the pipeline's ``SampleFrames`` (a shorter video
            cannot give that many distinct frames; mmaction2 would silently
            loop it). ``0`` disables the check.
        check_files: Check at load time that local files exist and are not
            empty.
        **kwargs: ``VideoDataset`` arguments (``data_prefix``, ``num_classes``,
            ``multi_class``, ``test_mode`` ...).
    """

    def __init__(self, ann_file: str, pipeline: list, on_bad_input: str = 'error',
                 min_frames: Optional[int] = None, check_files: bool = True,
                 **kwargs) -> None:
        self._init_video_policy(on_bad_input, min_frames, check_files)
        super().__init__(ann_file, pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the annotation file line by line, checking every line."""
        lines = self._read_annotation_text().splitlines()
        data_list = []
        for num, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f'{self.ann_file}, line {num}'
            info = self._parse_line(line, where)
            if info is None:
                continue
            info['ann_line'] = num
            data_list.append(info)
        return self._require_entries(data_list, 'the file is empty')

    def _parse_line(self, line: str, where: str) -> Optional[dict]:
        fields = line.strip().split(self.delimiter)
        if self.multi_class:
            if len(fields) < 2:
                return self._bad_at_load(where, f'expected "path label [label ...]", got {line!r}')
        elif len(fields) == 1 and self.test_mode:
            fields = [fields[0], '-1']  # mmaction2's unlabeled inference lists
        elif len(fields) != 2:
            return self._bad_at_load(where, f'expected 2 fields "path label", got '
                                     f'{len(fields)}: {line!r}')
        filename, raw_labels = fields[0], fields[1:]
        try:
            labels = [int(x) for x in raw_labels]
        except ValueError:
            return self._bad_at_load(where, f'label is not an integer: {line!r}')
        unlabeled = labels == [-1] and self.test_mode and not self.multi_class
        if not unlabeled and not all(self._check_label(label, where) for label in labels):
            return None
        if self.data_prefix.get('video') is not None:
            filename = osp.join(self.data_prefix['video'], filename)
        if not self._check_video_file(filename, where):
            return None
        return dict(filename=filename, label=labels if self.multi_class else labels[0])


def load_json_annotation(path: str) -> Any:
    """A JSON annotation file; non-UTF-8 text or bad JSON is a :class:`BadInputError`
    naming the file and line."""
    try:
        return load_json(path)[0]
    except AnnotationError as e:
        raise BadInputError(str(e)) from e


def _media_path(prefix: str, path: str) -> str:
    return path if (not prefix or osp.isabs(path) or not _local(path)) else osp.join(prefix, path)


@DATASETS.register_module()
class RobustPrivacyImageDataset(BadInputPolicyMixin, MultiLabelDataset):
    """mmpretrain ``MultiLabelDataset`` (privacy attributes) with the bad-input policy.

    Annotation format: OpenMMLab 2.0 JSON (``metainfo.classes`` = attribute
    names, ``data_list`` of ``{"img_path", "gt_label"}``), as written by
    ``tools/data/synthetic``. ``gt_label`` may list attribute indices or
    attribute *names*. Checked per entry: ``img_path`` present, labels
    known (an unknown attribute name or an index out of range is bad), the
    local image exists and is not empty. Use with :class:`LoadPrivacyImage`
    so grayscale, RGBA, 16-bit and CMYK images are converted, not dropped.

    Args:
        ann_file: JSON annotation file.
        on_bad_input: ``'error'`` (default) or ``'skip'``.
        check_files: Check at load time that local files exist and are
            not empty.
        **kwargs: ``MultiLabelDataset`` arguments.
    """

    ann_unit = 'entry'
    media_key = 'img_path'

    def __init__(self, ann_file: str, on_bad_input: str = 'error',
                 check_files: bool = True, **kwargs) -> None:
        self._init_policy(on_bad_input)
        self.check_files = check_files
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the JSON annotation, checking every entry (entries count from 1)."""
        if not osp.isfile(self.ann_file):
            raise BadInputError(f'annotation file not found: {self.ann_file}')
        if os.path.getsize(self.ann_file) == 0:
            raise BadInputError(f'{self.ann_file}: no usable entry (the file is empty)')
        ann = load_json_annotation(self.ann_file)
        if not isinstance(ann, dict) or not isinstance(ann.get('data_list'), list):
            raise BadInputError(f'{self.ann_file}: expected a JSON object with a '
                                f'"data_list" list (OpenMMLab 2.0 format)')
        for k, v in (ann.get('metainfo') or {}).items():
            self._metainfo.setdefault(k, v)
        classes = list(self._metainfo.get('classes') or [])
        index = {name: i for i, name in enumerate(classes)}
        data_list = []
        for num, raw in enumerate(ann['data_list'], start=1):
            where = f'{self.ann_file}, entry {num}'
            info = self._parse_entry(raw, where, classes, index)
            if info is not None:
                info['ann_line'] = num
                data_list.append(info)
        return self._require_entries(data_list, 'data_list is empty')

    def _parse_entry(self, raw: Any, where: str, classes: list,
                     index: Dict[str, int]) -> Optional[dict]:
        if not isinstance(raw, dict) or not isinstance(raw.get('img_path'), str):
            return self._bad_at_load(where, f'expected an object with "img_path", got '
                                     f'{str(raw)[:80]!r}')
        labels = raw.get('gt_label', [])
        labels = labels if isinstance(labels, list) else [labels]
        out = []
        for lab in labels:
            if isinstance(lab, str):
                if lab not in index:
                    return self._bad_at_load(where, f'unknown attribute name {lab!r} '
                                             f'(known: {classes})')
                out.append(index[lab])
            elif isinstance(lab, int) and not isinstance(lab, bool):
                if lab < 0 or (classes and lab >= len(classes)):
                    return self._bad_at_load(where, f'attribute index {lab} out of range '
                                             f'[0, {len(classes)})')
                out.append(lab)
            else:
                return self._bad_at_load(where, f'gt_label entries must be attribute '
                                         f'indices or names, got {lab!r}')
        info = dict(raw, gt_label=out)
        info['img_path'] = _media_path(self.data_prefix.get('img_path', ''), raw['img_path'])
        return info if self._check_local_file(info['img_path'], where, 'image') else None
