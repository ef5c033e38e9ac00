"""VISPR annotations (:mod:`spact_mm.datasets.vispr`).

Fixtures in ``tests/data/vispr`` follow VISPR's layout: per-image JSON files
``annotations/<split>/<id>.json`` (``id``, ``image_path``, ``labels``), the
annotation lists ``<split>.txt`` and a (partial) tab-separated ``attributes.tsv``.
Expected labels below are worked out by hand from the fixture files.
"""
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.pa_hmdb import PA_HMDB_ATTRIBUTES
from spact_mm.datasets.vispr import (
    PA_HMDB_VISPR_GROUPS,
    VISPR1_ATTRIBUTES,
    VISPR2_ATTRIBUTES,
    VISPR_ATTRIBUTES,
    VISPRDataset,
    parse_vispr_attribute_table,
    resolve_attribute_classes,
)
from spact_mm.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / 'tests' / 'data' / 'vispr'
CFG = ROOT / 'configs' / '_base_' / 'datasets'
IDS = ['2017_10001018', '2017_10035653', '2017_10048814', '2017_10056783']
# VISPR-1 order: color, gender, face_complete, face_partial, semi_nudity, rel_personal, social
VISPR1_LABELS = [[0, 1, 2], [], [3, 5, 6], [4]]
# Grouped: skin_color, face, gender, nudity, relationship
GROUPED_LABELS = [[0, 1, 2], [], [1, 4], [3]]
# VISPR-2 order: hair_color, race, sports, age, weight, landmark, tattoo
VISPR2_LABELS = [[1, 3], [], [5, 6], [0, 2]]


def _labels(ds):
    return [ds.get_data_info(i)['gt_label'] for i in range(len(ds))]


def test_attribute_lists():
    assert len(VISPR_ATTRIBUTES) == len(set(VISPR_ATTRIBUTES)) == 68
    assert len(VISPR1_ATTRIBUTES) == len(VISPR2_ATTRIBUTES) == 7
    assert not set(VISPR1_ATTRIBUTES) & set(VISPR2_ATTRIBUTES)  # disjoint (Sec. 4.3)
    assert sorted(a for g in PA_HMDB_VISPR_GROUPS.values() for a in g) == sorted(
        VISPR1_ATTRIBUTES)


@pytest.mark.parametrize('attributes,expected', [(VISPR1_ATTRIBUTES, VISPR1_LABELS),
                                                 (PA_HMDB_VISPR_GROUPS, GROUPED_LABELS),
                                                 (VISPR2_ATTRIBUTES, VISPR2_LABELS)])
def test_labels_from_list_file(attributes, expected):
    ds = VISPRDataset(ann_file='train2017.txt', data_root=str(DATA), attributes=attributes,
                      attribute_file='attributes.tsv', pipeline=[], check_files=False)
    assert _labels(ds) == expected
    assert [ds.get_data_info(i)['img_path'] for i in range(4)] == [
        str(DATA / f'images/train2017/{i}.jpg') for i in IDS]
    assert [ds.get_data_info(i)['vispr_id'] for i in range(4)] == IDS
    assert len(ds.metainfo['classes']) == len(attributes)


def test_folder_of_json_equals_list_and_filter_empty():
    by_list = VISPRDataset(ann_file=str(DATA / 'train2017.txt'), pipeline=[], check_files=False)
    by_dir = VISPRDataset(ann_file=str(DATA / 'annotations/train2017'), pipeline=[],
                          check_files=False)
    assert [by_list.get_data_info(i)['img_path'] for i in range(4)] == \
        [by_dir.get_data_info(i)['img_path'] for i in range(4)]
    assert _labels(by_dir) == VISPR1_LABELS
    kept = VISPRDataset(ann_file=str(DATA / 'train2017.txt'), filter_empty=True, pipeline=[],
                        check_files=False)
    assert _labels(kept) == [x for x in VISPR1_LABELS if x]


def test_attribute_table_and_validation():
    table = parse_vispr_attribute_table(str(DATA / 'attributes.tsv'))
    assert table['a17_color'] == 'Skin Color' and len(table) == 16
    names, groups = resolve_attribute_classes({'face': ['a9_face_complete', 'a10_face_partial']})
    assert names == ['face'] and groups == [('a9_face_complete', 'a10_face_partial')]
    with pytest.raises(ValueError, match='a17_colour'):
        resolve_attribute_classes(['a17_colour'])
    with pytest.raises(ValueError, match='a90_email'):  # a VISPR id, but not in the table
        VISPRDataset(ann_file='train2017.txt', data_root=str(DATA), attributes=['a90_email'],
                     attribute_file='attributes.tsv', pipeline=[], check_files=False)


def _copy(tmp_path):
    root = tmp_path / 'vispr'
    shutil.copytree(DATA, root)
    return root


@pytest.mark.parametrize('edit,line,msg', [
    (lambda r: (r / 'train2017.txt').write_text('annotations/train2017/2017_10001018.json\n'
                                                'annotations/train2017/x.jpg\n'), 2, '.json'),
    (lambda r: (r / 'train2017.txt').write_text('annotations/train2017/missing.json\n'), 1,
     'missing'),
])
def test_malformed_list_names_file_and_line(tmp_path, edit, line, msg):
    root = _copy(tmp_path)
    edit(root)
    with pytest.raises(AnnotationError, match=msg) as e:
        VISPRDataset(ann_file='train2017.txt', data_root=str(root), pipeline=[], check_files=False)
    assert str(e.value).startswith(f'{root / "train2017.txt"}:{line}:')


@pytest.mark.parametrize('text,prefix', [
    ('{"id": "x",\n "image_path": "a.jpg",\n "labels": ["a4_gender",]}', ':3:'),
    ('{"id": "x", "image_path": "a.jpg", "labels": "a4_gender"}', ': "labels"'),
    ('{"id": "x", "labels": []}', ': "image_path"'),
])
def test_malformed_annotation_json(tmp_path, text, prefix):
    root = _copy(tmp_path)
    bad = root / 'annotations/train2017/2017_10035653.json'
    bad.write_text(text)
    with pytest.raises(AnnotationError) as e:
        VISPRDataset(ann_file='train2017.txt', data_root=str(root), pipeline=[], check_files=False)
    assert str(e.value).startswith(f'{bad}{prefix}')


@pytest.mark.parametrize('name,expected', [('vispr_vispr1_112x112.py', VISPR1_LABELS),
                                           ('vispr_vispr2_112x112.py', VISPR2_LABELS),
                                           ('vispr_pa-hmdb-attributes_112x112.py',
                                            GROUPED_LABELS)])
def test_configs_build_and_load_images(tmp_path, name, expected):
    """Each config builds from the fixtures; its pipeline loads an image end to end."""
    root = _copy(tmp_path)
    rng = np.random.default_rng(0)
    for split in ('train2017', 'test2017'):
        (root / 'images' / split).mkdir(parents=True)
        for ann in (root / 'annotations' / split).glob('*.json'):
            img = rng.integers(0, 255, (90, 140, 3), dtype=np.uint8)
            cv2.imwrite(str(root / 'images' / split / f'{ann.stem}.jpg'), img)
    init_default_scope('spact_mm')
    cfg = Config.fromfile(str(CFG / name))
    cfg.train_dataloader.dataset.data_root = str(root)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert _labels(train) == expected
    if 'pa-hmdb' in name:
        assert train.metainfo['classes'] == tuple(PA_HMDB_VISPR_GROUPS) == PA_HMDB_ATTRIBUTES
    cfg.test_dataloader.dataset.data_root = str(root)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(test) == 2
    for ds in (train, test):
        sample = ds[2 % len(ds)]
        assert tuple(sample['inputs'].shape) == (3, 112, 112)
        assert sample['data_samples'].gt_label.tolist() == ds.get_data_info(2 % len(ds))[
            'gt_label']
