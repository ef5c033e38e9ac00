"""Datasets with privacy labels: videos (action + multi-hot privacy) and images.

Two small subclasses of the stock datasets, so that a protocol (Sec. 4) is
only configuration:

- :class:`PrivacyVideoDataset`, an mmaction2 ``VideoDataset`` that reads an
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

from mmaction.datasets import VideoDataset
from mmengine.fileio import load
from mmpretrain.datasets import MultiLabelDataset

from spact_mm.registry import DATASETS

from .annotation_io import multi_hot


def _subset_map(all_classes: Sequence[str], attributes: Optional[Sequence[str]]) -> dict:
    """Old index -> new index for the kept attributes."""
    if attributes is None:
        return {i: i for i in range(len(all_classes))}
    missing = [a for a in attributes if a not in all_classes]
    if missing:
        raise KeyError(f'attributes {missing} are not in the dataset classes {list(all_classes)}')
    return {list(all_classes).index(a): j for j, a in enumerate(attributes)}


@DATASETS.register_module()
class PrivacyVideoDataset(VideoDataset):
    """mmaction2 ``VideoDataset`` with multi-hot privacy labels per video.

    Annotation file (mmengine ``BaseDataset`` json)::

        {"metainfo": {"classes": [privacy attribute names], ...},
         "data_list": [{"filename": "videos/a/train/x.mp4", "label": 1,
                        "gt_label": [0, 5], "person_boxes": [[x1, y1, x2, y2], ...]}]}

    Args:
        ann_file: The json file.
        pipeline: Processing pipeline.
        attributes: Privacy attributes to keep (new indices follow this order);
            ``None`` keeps all.
        data_prefix: ``dict(video=ROOT)``, joined with each ``filename``.
        **kwargs: Other ``VideoDataset`` arguments.
    """

    def __init__(self, ann_file: str, pipeline: List, attributes: Optional[Sequence[str]] = None,
                 data_prefix: dict = dict(video=''), **kwargs) -> None:
        self.attributes = None if attributes is None else list(attributes)
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the json; keep the chosen attributes."""
        ann = load(self.ann_file)
        meta = ann.get('metainfo', {})
        all_classes = meta.get('classes')
        if all_classes is None:
            raise KeyError(f'{self.ann_file} has no metainfo.classes (privacy attribute names)')
        index = _subset_map(all_classes, self.attributes)
        classes = [all_classes[i] for i in sorted(index, key=index.get)]
        self._metainfo.update({k: v for k, v in meta.items() if k != 'classes'})
        self._metainfo['classes'] = tuple(classes)
        data_list = []
        for item in ann['data_list']:
            info = dict(item)
            info['filename'] = osp.join(self.data_prefix['video'], item['filename'])
            info['gt_label'] = sorted(index[i] for i in item['gt_label'] if i in index)
            info['privacy_label'] = multi_hot(info['gt_label'], len(classes))
            data_list.append(info)
        return data_list


@DATASETS.register_module()
class MultiLabelSubsetDataset(MultiLabelDataset):
    """mmpretrain ``MultiLabelDataset`` keeping only some attributes.

    Args:
        attributes: Names of the attributes to keep, in new index order;
            ``None`` keeps all.
        **kwargs: ``MultiLabelDataset`` arguments (``ann_file``, ``data_root``,
            ``pipeline``, ...).
    """

    def __init__(self, attributes: Optional[Sequence[str]] = None, **kwargs) -> None:
        self.attributes = None if attributes is None else list(attributes)
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """Load with mmpretrain, then remap ``gt_label`` to the kept attributes."""
        data_list = super().load_data_list()
        all_classes = self._metainfo.get('classes')
        if self.attributes is None:
            return data_list
        index = _subset_map(all_classes, self.attributes)
        self._metainfo['classes'] = tuple(self.attributes)
        for info in data_list:
            info['gt_label'] = sorted(index[i] for i in info['gt_label'] if i in index)
        return data_list
