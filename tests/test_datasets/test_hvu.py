"""HVU / P-HVU annotations (:mod:`spact_mm.datasets.hvu`).

Fixtures in ``tests/data/hvu`` follow the official HVU CSV files
(``HVU_{Train,Val}_V1.0.csv``: ``Tags,youtube_id,time_start,time_end`` with
``|``-joined tags; ``HVU_Tags_Categories_V1.0.csv``: ``Tag,Category``) with a
handful of real HVU tags. Expected indices are worked out by hand.
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.hvu import (
    HVUDataset,
    PHVUDataset,
    hvu_clip_name,
    parse_hvu_categories,
    parse_hvu_csv,
)
from spact_mm.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / 'tests' / 'data' / 'hvu'
CATS = str(DATA / 'HVU_Tags_Categories_V1.0.csv')
CFG = ROOT / 'configs' / '_base_' / 'datasets'
ACTIONS = ['playing_trombone', 'sitting', 'skiing', 'walking_the_dog']
OBJECTS = ['dog', 'leash', 'ski', 'snow', 'trombone']
SCENES = ['concert_hall', 'park', 'ski_slope']


def test_parse_categories_and_clips():
    cats = parse_hvu_categories(CATS)
    assert cats['action'] == ACTIONS and cats['object'] == OBJECTS and cats['scene'] == SCENES
    assert cats['attribute'] == ['red'] and cats['concept'] == ['music', 'winter']
    assert cats['event'] == ['wedding']
    tag_to_cat = {t: c for c, tags in cats.items() for t in tags}
    clips = parse_hvu_csv(str(DATA / 'HVU_Train_V1.0.csv'), tag_to_cat)
    assert len(clips) == 5
    assert clips[2] == dict(tags=['walking_the_dog', 'dog', 'leash', 'park', 'red'],
                            youtube_id='--0bYT0pbtM', time_start=12.5, time_end=22.5, lineno=4)
    assert hvu_clip_name('--0bYT0pbtM', 12.5, 22.5) == '--0bYT0pbtM_000125_000225.mp4'


def test_hvu_action_labels_all_clips():
    ds = HVUDataset(ann_file=str(DATA / 'HVU_Train_V1.0.csv'), category_file=CATS,
                    data_prefix=dict(video='v'), pipeline=[], check_files=False)
    assert ds.metainfo['classes'] == tuple(ACTIONS)
    assert [d['label'] for d in ds.load_data_list()] == [[0], [2], [3], [1], [2]]
    onehot = ds.get_data_info(2)['label']  # multi-hot through mmaction2's BaseActionDataset
    assert torch.equal(onehot, torch.tensor([0., 0., 0., 1.]))
    assert ds.get_data_info(0)['filename'] == 'v/--0NTAs-fA0_000290_000390.mp4'


@pytest.mark.parametrize('category,expected,classes', [
    ('object', [[4], [2, 3], [0, 1]], OBJECTS),
    ('scene', [[0], [2], [1]], SCENES),
])
def test_p_hvu_selection_and_privacy_labels(category, expected, classes):
    ds = PHVUDataset(ann_file='HVU_Train_V1.0.csv', category_file='HVU_Tags_Categories_V1.0.csv',
                     data_root=str(DATA), privacy_category=category, pipeline=[], check_files=False)
    entries = ds.load_data_list()
    # clips 4 (no scene) and 5 (no scene) are not in P-HVU
    assert [d['youtube_id'] for d in entries] == ['--0NTAs-fA0', '--0aaaDL_2c', '--0bYT0pbtM']
    assert [d['gt_label'] for d in entries] == expected
    assert ds.metainfo['classes'] == tuple(classes)
    assert ds.metainfo['action_classes'] == tuple(ACTIONS)
    for d in entries:
        assert d['privacy_label'].tolist() == [float(i in d['gt_label'])
                                               for i in range(len(classes))]
    assert entries[1]['tags'] == dict(action=[2], object=[2, 3], scene=[2], concept=[1])


@pytest.mark.parametrize('line,n,msg', [
    ('skiing|snowboard,--0zzzz,0,10', 2, 'not in the category file'),
    ('skiing|snow,--0zzzz,0', 2, 'expected 4 fields'),
    ('skiing|snow,--0zzzz,ten,20', 2, 'numbers'),
    ('skiing|snow,--0zzzz,20,10', 2, 'time_start < time_end'),
    ('skiing,,0,10', 2, 'empty'),
])
def test_malformed_clip_line_names_file_and_line(tmp_path, line, n, msg):
    path = tmp_path / 'HVU_Val_V1.0.csv'
    path.write_text(f'Tags,youtube_id,time_start,time_end\n{line}\n')
    with pytest.raises(AnnotationError, match=msg) as e:
        HVUDataset(ann_file=str(path), category_file=CATS, pipeline=[], check_files=False)
    assert str(e.value).startswith(f'{path}:{n}:')


@pytest.mark.parametrize('text,n', [('Tags,Category\nski,object\n', 1),
                                    ('Tag,Category\nski,object\nski,scene\n', 3),
                                    ('Tag,Category\nski,thing\n', 2),
                                    ('Tag,Category\nski\n', 2)])
def test_malformed_category_file(tmp_path, text, n):
    path = tmp_path / 'cats.csv'
    path.write_text(text)
    with pytest.raises(AnnotationError) as e:
        parse_hvu_categories(str(path))
    assert str(e.value).startswith(f'{path}:{n}:')


def test_bad_header_and_category():
    with pytest.raises(AnnotationError, match='header'):
        HVUDataset(ann_file=CATS, category_file=CATS, pipeline=[], check_files=False)
    with pytest.raises(ValueError, match='places'):
        HVUDataset(ann_file=str(DATA / 'HVU_Val_V1.0.csv'), category_file=CATS,
                   privacy_category='places', pipeline=[], check_files=False)


@pytest.mark.parametrize('name,category', [('p_hvu_16x112x112.py', None),
                                           ('p_hvu_frames-objects_112x112.py', 'object'),
                                           ('p_hvu_frames-scenes_112x112.py', 'scene')])
def test_configs_build_from_fixtures(name, category):
    init_default_scope('spact_mm')
    cfg = Config.fromfile(str(CFG / name))
    for key, ann, n in (('train_dataloader', 'HVU_Train_V1.0.csv', 3),
                        ('val_dataloader', 'HVU_Val_V1.0.csv', 1),
                        ('test_dataloader', 'HVU_Val_V1.0.csv', 1)):
        ds_cfg = cfg[key].dataset
        assert ds_cfg.type == 'PHVUDataset'
        ds_cfg.update(data_root=str(DATA), ann_file=ann,
                      category_file='HVU_Tags_Categories_V1.0.csv', check_files=False)
        ds = DATASETS.build(ds_cfg)
        assert len(ds) == n and ds.privacy_category == category
