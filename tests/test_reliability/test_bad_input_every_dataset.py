"""The bad-input policy in every dataset the configs use (issue 16, items 5-7).

Labels beyond the head's classes, annotation files that are not UTF-8, and the
protocol datasets (``PrivacyVideoDataset``, ``MultiLabelSubsetDataset``) with
broken videos and labels: a named error by default, a counted skip on request.
"""
import copy
import json
from pathlib import Path

import cv2  # noqa: F401  (before decord, see README)
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from spact_mm.datasets import (
    BadInputError,
    MultiLabelSubsetDataset,
    PrivacyVideoDataset,
    RobustVideoDataset,
)
from spact_mm.datasets.synthetic import write_video
from spact_mm.registry import DATASETS
from spact_mm.testing import tiny_video_pipeline

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = tiny_video_pipeline()
CLASSES = ['hat', 'tree', 'car']


@pytest.fixture(scope='module')
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp('media')
    rng = np.random.default_rng(0)
    for name, n in (('good0.mp4', 12), ('good1.mp4', 12), ('two.mp4', 2)):
        write_video(str(root / name), rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8), 8)
    data = (root / 'good0.mp4').read_bytes()
    (root / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    (root / 'zero.mp4').write_bytes(b'')
    for name in ('a.png', 'b.png'):
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(root / name)
    return root


# ------------------------------------------------------------- item 5: label range
def _dataset_cfgs(cfg):
    """(where, dataset cfg, head num_classes) of every labelled video dataset of a config."""
    def head_classes(model):
        return (model or {}).get('cls_head', {}).get('num_classes')

    found = []
    for scope, model in [(cfg, cfg.get('model'))] + [(cfg[t], cfg[t].get('model'))
                                                     for t in ('action', ) if t in cfg]:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            ds = (scope.get(key) or {}).get('dataset')
            if ds and ds.get('type') in ('RobustVideoDataset', 'PrivacyVideoDataset'):
                found.append((key, ds, head_classes(model)))
    return found


def test_every_config_gives_its_video_datasets_the_heads_num_classes():
    checked = 0
    for path in sorted((ROOT / 'configs').rglob('*.py')):
        if '_base_' in path.parts:
            continue
        cfg = Config.fromfile(str(path))
        for key, ds, head in _dataset_cfgs(cfg):
            if head is None:  # e.g. stage 1 (no f_T): labels are not used
                continue
            assert ds.get('num_classes') == head, f'{path.name}: {key}'
            checked += 1
    assert checked > 20


def test_label_beyond_the_shipped_heads_classes_is_named_or_skipped(media, tmp_path):
    """The synthetic 4-class dataset config as shipped, with labels 4 and 99."""
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/datasets/synthetic_actions_a_8x32x32.py'))
    ann = tmp_path / 'ann.txt'
    ann.write_text('good0.mp4 1\ngood1.mp4 99\ngood0.mp4 4\n')
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.update(ann_file=str(ann), data_prefix=dict(video=str(media)))
    with pytest.raises(BadInputError, match=r'ann\.txt, line 2: label 99 out of range \[0, 4\)'):
        DATASETS.build(ds_cfg)
    ds = DATASETS.build(dict(ds_cfg, on_bad_input='skip'))
    assert len(ds) == 1 and len(ds.skipped_at_load) == 2
    assert 'line 3: label 4 out of range' in ds.skipped_at_load[1]


# ----------------------------------------------------------- item 6: encodings
@pytest.mark.parametrize('policy', ['error', 'skip'])
def test_annotation_files_that_are_not_utf8_are_named_with_the_line(media, tmp_path, policy):
    latin1 = tmp_path / 'latin1.txt'
    latin1.write_bytes('good0.mp4 1\nvid\xe9o.mp4 2\n'.encode('latin-1'))
    with pytest.raises(BadInputError, match=r'latin1\.txt:2: not UTF-8 text: byte 0xe9'):
        RobustVideoDataset(str(latin1), PIPELINE, data_prefix=dict(video=str(media)),
                           on_bad_input=policy)
    utf16 = tmp_path / 'utf16.txt'
    utf16.write_bytes('good0.mp4 1\n'.encode('utf-16'))
    with pytest.raises(BadInputError, match=r'utf16\.txt: the file is UTF-16'):
        RobustVideoDataset(str(utf16), PIPELINE, data_prefix=dict(video=str(media)),
                           on_bad_input=policy)
    ann = {'metainfo': {'classes': CLASSES},
           'data_list': [{'filename': 'good0.mp4', 'label': 0, 'gt_label': [0]}]}
    js = tmp_path / 'latin1.json'
    js.write_bytes(json.dumps(ann, indent=1).replace('hat', 'h\xe9t').encode('latin-1'))
    with pytest.raises(BadInputError, match=r'latin1\.json:\d+: not UTF-8'):
        PrivacyVideoDataset(str(js), PIPELINE, data_prefix=dict(video=str(media)),
                            on_bad_input=policy)
    with pytest.raises(BadInputError, match=r'latin1\.json:\d+: not UTF-8'):
        MultiLabelSubsetDataset(ann_file=str(js), on_bad_input=policy, pipeline=[])


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_file_name(media, tmp_path):
    ann = tmp_path / 'bom.txt'
    ann.write_bytes(b'\xef\xbb\xbfgood0.mp4 1\ngood1.mp4 2\n')
    ds = RobustVideoDataset(str(ann), PIPELINE, data_prefix=dict(video=str(media)))
    assert ds.get_data_info(0)['filename'] == str(media / 'good0.mp4')
    js = tmp_path / 'bom.json'
    js.write_bytes(b'\xef\xbb\xbf' + json.dumps(
        {'metainfo': {'classes': CLASSES},
         'data_list': [{'filename': 'good0.mp4', 'label': 0, 'gt_label': [1]}]}).encode())
    ds = PrivacyVideoDataset(str(js), PIPELINE, data_prefix=dict(video=str(media)))
    assert ds.get_data_info(0)['filename'] == str(media / 'good0.mp4')


# ------------------------------------------------------ item 7: protocol datasets
def privacy_videos(tmp_path, media, entries, **kw):
    path = tmp_path / 'videos.json'
    path.write_text(json.dumps({'metainfo': {'classes': CLASSES}, 'data_list': entries}))
    return PrivacyVideoDataset(str(path), PIPELINE, data_prefix=dict(video=str(media)),
                               num_classes=4, **kw)


GOOD_VIDEOS = [{'filename': 'good0.mp4', 'label': 1, 'gt_label': [0, 2]},
               {'filename': 'good1.mp4', 'label': 2, 'gt_label': ['tree']}]
BAD_VIDEO_ENTRIES = [
    ({'filename': 'good0.mp4', 'label': 1, 'gt_label': [99]}, 'attribute index 99 out of range'),
    ({'filename': 'good0.mp4', 'label': 1, 'gt_label': [-1]}, 'attribute index -1 out of range'),
    ({'filename': 'good0.mp4', 'label': 1, 'gt_label': ['beard']},
     "unknown attribute name 'beard'"),
    ({'filename': 'good0.mp4', 'label': 1, 'gt_label': ['1']}, "unknown attribute name '1'"),
    ({'filename': 'good0.mp4', 'label': 4, 'gt_label': []}, 'action label 4 out of range [0, 4)'),
    ({'filename': 'zero.mp4', 'label': 0, 'gt_label': []}, 'video file is empty (0 bytes)'),
    ({'filename': 'missing.mp4', 'label': 0, 'gt_label': []}, 'video file not found'),
    ({'label': 0, 'gt_label': []}, 'expected an object with "filename"'),
]


@pytest.mark.parametrize('entry,words', BAD_VIDEO_ENTRIES)
def test_privacy_video_entries_are_named_by_entry(media, tmp_path, entry, words):
    with pytest.raises(BadInputError, match=r'videos\.json, entry 3') as err:
        privacy_videos(tmp_path, media, GOOD_VIDEOS + [entry])
    assert words in str(err.value)


def test_privacy_videos_that_do_not_decode_or_are_too_short(media, tmp_path):
    ds = privacy_videos(tmp_path, media, GOOD_VIDEOS + [
        {'filename': 'truncated.mp4', 'label': 0, 'gt_label': []},
        {'filename': 'two.mp4', 'label': 0, 'gt_label': []}])
    assert ds[1]['inputs'].shape[-1] == 16  # good ones load, with the gt_label names mapped
    assert ds.get_data_info(1)['gt_label'] == [1]
    with pytest.raises(BadInputError, match=r'truncated\.mp4 \(entry 3 of .*videos\.json\)'):
        ds[2]
    with pytest.raises(BadInputError, match=r'two\.mp4 \(entry 4 .*video has 2 frames, fewer '
                                            r'than the clip length 8'):
        ds[3]


def test_privacy_videos_skip_mode_counts(media, tmp_path):
    entries = GOOD_VIDEOS + [e for e, _ in BAD_VIDEO_ENTRIES] + [
        {'filename': 'two.mp4', 'label': 0, 'gt_label': []}]
    ds = privacy_videos(tmp_path, media, entries, on_bad_input='skip')
    assert len(ds.skipped_at_load) == len(BAD_VIDEO_ENTRIES) and len(ds) == 3
    assert ds.prepare_data(2) is None and ds.num_skipped_at_fetch == 1


@pytest.mark.parametrize('label,words', [(99, 'attribute index 99 out of range'),
                                         (-1, 'attribute index -1 out of range'),
                                         ('beard', "unknown attribute name 'beard'"),
                                         ('1', "unknown attribute name '1'")])
def test_multilabel_subset_entries_are_named(media, tmp_path, label, words):
    path = tmp_path / 'images.json'
    path.write_text(json.dumps({'metainfo': {'classes': CLASSES}, 'data_list': [
        {'img_path': 'a.png', 'gt_label': [0]}, {'img_path': 'b.png', 'gt_label': [label]}]}))
    kw = dict(ann_file=str(path), data_prefix=dict(img_path=str(media)),
              attributes=['car', 'hat'], pipeline=[])
    with pytest.raises(BadInputError, match=r'images\.json, entry 2') as err:
        MultiLabelSubsetDataset(**kw)
    assert words in str(err.value)
    ds = MultiLabelSubsetDataset(on_bad_input='skip', **kw)
    assert len(ds) == 1 and len(ds.skipped_at_load) == 1
    assert ds.get_data_info(0)['gt_label'] == [1]  # 'hat' is the second kept attribute
