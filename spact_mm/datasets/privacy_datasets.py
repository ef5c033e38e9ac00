"""Datasets with privacy labels: videos (action + multi-hot privacy) and images.

Two small subclasses of the stock datasets, so that a protocol (Sec. 4) is
only configuration:

- :class:`PrivacyVideoDataset`, a :class:`RobustVideoDataset` that reads an
  mmengine-format json (``filename``, action ``label``, privacy ``gt_label``
  indices, optional per-frame ``person_boxes``; the synthetic dataset's
  ``privacy_videos_*.json``). Each sample carries its action label (``label``,
  read by ``PackActionInputs``), its privacy labels as indices (``gt_label``,
  read by mmpretrain's ``PackInputs`` when frames are used as images for f'_B)
  and as a multi-hot vector (``privacy_label``, packed by
  ``PackActionPrivacyInputs`` for the supervised method of [41]).
- :class:`MultiLabelSubsetDataset`, mmpretrain's ``MultiLabelDataset``
  restricted to a subset of the attributes (novel-privacy protocol, Sec. 4.3:
  attackers are trained and tested on attributes disjoint from those f_A saw).

Both take ``attributes``: the names of the privacy attributes to keep, in the
order of the new label indices (``None`` keeps all).
"""
import os.path as osp
from typing import List, Optional, Sequence

from spact_mm.registry import DATASETS

from .annotation_io import multi_hot
from .bad_input import (
    BadInputError,
    RobustPrivacyImageDataset,
    RobustVideoDataset,
    load_json_annotation,
)


def _subset_map(all_classes: Sequence[str], attributes: Optional[Sequence[str]]) -> dict:
    """Old index -> new index for the kept attributes."""
    if attributes is None:
        return {i: i for i in range(len(all_classes))}
    missing = [a for a in attributes if a not in all_classes]
    if missing:
        raise KeyError(f'attributes {missing} are not in the dataset classes {list(all_classes)}')
    return {list(all_classes).index(a): j for j, a in enumerate(attributes)}


@DATASETS.register_module()
class PrivacyVideoDataset(RobustVideoDataset):
    """mmaction2 ``VideoDataset`` with multi-hot privacy labels per video.

    Annotation file (mmengine ``BaseDataset`` json)::

        {"metainfo": {"classes": [privacy attribute names], ...},
         "data_list": [{"filename": "videos/a/train/x.mp4", "label": 1,
                        "gt_label": [0, 5], "person_boxes": [[x1, y1, x2, y2], ...]}]}

    The bad-input policy of :class:`RobustVideoDataset` applies, entry by entry
    (entries count from 1): ``filename`` present, the action ``label`` an
    integer in ``[0, num_classes)``, every ``gt_label`` an attribute index in
    range or an attribute name, the video present and not empty; at fetch time
    the video decodes and has at least ``min_frames`` frames.

    Args:
        ann_file: The json file.
        pipeline: Processing pipeline.
        attributes: Privacy attributes to keep (new indices follow this order);
            ``None`` keeps all.
        data_prefix: ``dict(video=ROOT)``, joined with each ``filename``.
        **kwargs: Other :class:`RobustVideoDataset` arguments (``num_classes``,
            ``on_bad_input``, ``min_frames``, ``test_mode`` ...).
    """

    ann_unit = 'entry'

    def __init__(self, ann_file: str, pipeline: List, attributes: Optional[Sequence[str]] = None,
                 data_prefix: dict = dict(video=''), **kwargs) -> None:
        self.attributes = None if attributes is None else list(attributes)
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the json, check every entry, keep the chosen attributes."""
        if not osp.isfile(self.ann_file):
            raise BadInputError(f'annotation file not found: {self.ann_file}')
        ann = load_json_annotation(self.ann_file)
        if not isinstance(ann, dict) or not isinstance(ann.get('data_list'), list):
            raise BadInputError(f'{self.ann_file}: expected a JSON object with a '
                                f'"data_list" list (OpenMMLab 2.0 format)')
        meta = ann.get('metainfo', {})
        all_classes = meta.get('classes')
        if all_classes is None:
            raise KeyError(f'{self.ann_file} has no metainfo.classes (privacy attribute names)')
        index = _subset_map(all_classes, self.attributes)
        classes = [all_classes[i] for i in sorted(index, key=index.get)]
        self._metainfo.update({k: v for k, v in meta.items() if k != 'classes'})
        self._metainfo['classes'] = tuple(classes)
        names = {name: i for i, name in enumerate(all_classes)}
        data_list = []
        for num, item in enumerate(ann['data_list'], start=1):
            info = self._parse_entry(item, f'{self.ann_file}, entry {num}', all_classes, names)
            if info is None:
                continue
            info['gt_label'] = sorted(index[i] for i in info['gt_label'] if i in index)
            info['privacy_label'] = multi_hot(info['gt_label'], len(classes))
            info['ann_line'] = num
            data_list.append(info)
        return self._require_entries(data_list, 'data_list is empty')

    def _parse_entry(self, item, where: str, all_classes: Sequence[str],
                     names: dict) -> Optional[dict]:
        if not isinstance(item, dict) or not isinstance(item.get('filename'), str):
            return self._bad_at_load(where, f'expected an object with "filename", got '
                                     f'{str(item)[:80]!r}')
        if 'label' in item or not self.test_mode:
            if not self._check_label(item.get('label'), where, 'action label'):
                return None
        raw = item.get('gt_label', [])
        gt = []
        for lab in raw if isinstance(raw, list) else [raw]:
            if isinstance(lab, str):  # an attribute name ('1' is a name, not an index)
                if lab not in names:
                    return self._bad_at_load(where, f'unknown attribute name {lab!r} '
                                             f'(known: {list(all_classes)})')
                lab = names[lab]
            elif not self._check_label(lab, where, 'attribute index', len(all_classes)):
                return None
            gt.append(lab)
        info = dict(item, gt_label=gt)
        info['filename'] = osp.join(self.data_prefix['video'], item['filename'])
        if not self._check_video_file(info['filename'], where):
            return None
        return info


@DATASETS.register_module()
class MultiLabelSubsetDataset(RobustPrivacyImageDataset):
    """mmpretrain ``MultiLabelDataset`` keeping only some attributes.

    The entries are read and checked by :class:`RobustPrivacyImageDataset`
    (bad-input policy: an unknown attribute name, an index out of range, a
    missing or empty image is a named error, or a counted skip with
    ``on_bad_input='skip'``), then the labels are remapped.

    Args:
        attributes: Names of the attributes to keep, in new index order;
            ``None`` keeps all.
        **kwargs: :class:`RobustPrivacyImageDataset` arguments (``ann_file``,
            ``data_root``, ``pipeline``, ``on_bad_input``, ...).
    """

    def __init__(self, attributes: Optional[Sequence[str]] = None, **kwargs) -> None:
        self.attributes = None if attributes is None else list(attributes)
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """Load and check the entries, then remap ``gt_label`` to the kept attributes."""
        data_list = super().load_data_list()
        all_classes = self._metainfo.get('classes')
        if self.attributes is None:
            return data_list
        index = _subset_map(all_classes, self.attributes)
        self._metainfo['classes'] = tuple(self.attributes)
        for info in data_list:
            info['gt_label'] = sorted(index[i] for i in info['gt_label'] if i in index)
        return data_list
