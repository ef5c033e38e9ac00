"""UCF101 official split files (:mod:`spact_mm.datasets.ucf101`).

Fixtures in ``tests/data/ucf101`` follow the official ``classInd.txt`` /
``trainlist01.txt`` / ``testlist01.txt`` format (three classes, CRLF line ends:
the parser accepts CRLF and LF).
"""
import os.path as osp
from pathlib import Path

import pytest
from mmaction.datasets import VideoDataset
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.ucf101 import UCF101Dataset, parse_ucf101_class_index, parse_ucf101_split
from spact_mm.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / 'tests' / 'data' / 'ucf101'
CLASSES = ['ApplyEyeMakeup', 'ApplyLipstick', 'Archery']
TRAIN = [('ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi', 0),
         ('ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c02.avi', 0),
         ('ApplyLipstick/v_ApplyLipstick_g08_c01.avi', 1),
         ('Archery/v_Archery_g08_c01.avi', 2), ('Archery/v_Archery_g09_c03.avi', 2)]
TEST = [('ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi', 0),
        ('ApplyLipstick/v_ApplyLipstick_g01_c01.avi', 1), ('Archery/v_Archery_g01_c01.avi', 2),
        ('Archery/v_Archery_g02_c04.avi', 2)]


def test_parse_official_files():
    assert parse_ucf101_class_index(str(DATA / 'classInd.txt')) == CLASSES
    assert parse_ucf101_split(str(DATA / 'trainlist01.txt'), CLASSES) == TRAIN
    assert parse_ucf101_split(str(DATA / 'testlist01.txt'), CLASSES) == TEST


def test_dataset_matches_mmaction_video_dataset(tmp_path):
    """Same filenames and labels as mmaction2's VideoDataset on the generated list."""
    ours = UCF101Dataset(ann_file='trainlist01.txt', class_index_file='classInd.txt',
                         data_root=str(DATA), data_prefix=dict(video='videos'), pipeline=[],
                         check_files=False)  # the fixtures hold no videos
    # mmaction2's build_file_list.py writes "<Class>/<video> <label>" lines (0-based).
    lst = tmp_path / 'ucf101_train_split_1_videos.txt'
    lst.write_text(''.join(f'{rel} {label}\n' for rel, label in TRAIN))
    ref = VideoDataset(ann_file=str(lst), data_prefix=dict(video=str(DATA / 'videos')),
                       pipeline=[])
    assert len(ours) == len(ref) == 5
    for i in range(len(ref)):
        a, b = ours.get_data_info(i), ref.get_data_info(i)
        assert (a['filename'], a['label']) == (b['filename'], b['label'])
    assert ours.metainfo['classes'] == tuple(CLASSES)


@pytest.mark.parametrize('name,text,line,msg', [
    ('trainlist01.txt', 'ApplyEyeMakeup/a.avi 1\nArchery/b.avi 1\n', 2, 'disagrees'),
    ('trainlist01.txt', 'ApplyEyeMakeup/a.avi 1 x\n', 1, 'expected'),
    ('testlist01.txt', 'ApplyEyeMakeup/a.avi\nBowling/b.avi\n', 2, 'not in classInd'),
    ('testlist01.txt', 'a.avi\n', 1, 'expected "<Class>/<video>"'),
])
def test_malformed_split_line_names_file_and_line(tmp_path, name, text, line, msg):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(AnnotationError, match=msg) as e:
        parse_ucf101_split(str(path), CLASSES)
    assert str(e.value).startswith(f'{path}:{line}:')


@pytest.mark.parametrize('text,line', [('1 A\n3 B\n', 2), ('1 A\nB 2\n', 2), ('1 A\n2 A\n', 2)])
def test_malformed_class_index(tmp_path, text, line):
    path = tmp_path / 'classInd.txt'
    path.write_text(text)
    with pytest.raises(AnnotationError) as e:
        parse_ucf101_class_index(str(path))
    assert str(e.value).startswith(f'{path}:{line}:')


def test_configs_build_from_fixtures(tmp_path):
    init_default_scope('spact_mm')
    cfg = Config.fromfile(
        str(ROOT / 'configs/_base_/datasets/ucf101_official-split1_16x112x112.py'))
    for key, ann, expected in (('train_dataloader', 'trainlist01.txt', TRAIN),
                               ('test_dataloader', 'testlist01.txt', TEST)):
        ds_cfg = cfg[key].dataset
        assert ds_cfg.type == 'UCF101Dataset' and ds_cfg.data_root == 'data/ucf101'
        ds_cfg.update(data_root=str(DATA), ann_file=ann, class_index_file='classInd.txt',
                      check_files=False)  # the fixtures hold no videos
        ds = DATASETS.build(ds_cfg)
        assert [(d['filename'], d['label']) for d in ds.load_data_list()] == [
            (osp.join(str(DATA), 'videos', rel), label) for rel, label in expected]
    # The existing mmaction2-list config keeps working (a RobustVideoDataset now; the
    # fixtures hold no videos, so the load-time file check is off).
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/datasets/ucf101_16x112x112.py'))
    lst = tmp_path / 'list.txt'
    lst.write_text(''.join(f'{rel} {label}\n' for rel, label in TEST))
    cfg.val_dataloader.dataset.ann_file = str(lst)
    cfg.val_dataloader.dataset.check_files = False
    assert [d['label'] for d in DATASETS.build(cfg.val_dataloader.dataset).load_data_list()] \
        == [label for _, label in TEST]
