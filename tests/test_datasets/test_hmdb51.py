"""HMDB51 official split files (:mod:`spact_mm.datasets.hmdb51`).

Fixtures in ``tests/data/hmdb51/testTrainMulti_7030_splits`` follow the official
``<class>_test_split<k>.txt`` format (``<video>.avi <0|1|2> `` with the trailing
space of the real files), for two classes and splits 1 and 2.
"""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.hmdb51 import HMDB51_CLASSES, HMDB51Dataset, parse_hmdb51_split_file
from spact_mm.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
SPLITS = ROOT / 'tests' / 'data' / 'hmdb51' / 'testTrainMulti_7030_splits'
BRUSH, PULLUP = 0, 26  # positions in the sorted list of the 51 class names, counted by hand


def test_class_list():
    assert len(HMDB51_CLASSES) == len(set(HMDB51_CLASSES)) == 51
    assert list(HMDB51_CLASSES) == sorted(HMDB51_CLASSES)
    assert HMDB51_CLASSES[BRUSH] == 'brush_hair' and HMDB51_CLASSES[PULLUP] == 'pullup'


def test_parse_split_file():
    assert parse_hmdb51_split_file(str(SPLITS / 'pullup_test_split1.txt')) == [
        ('100_pullups_pullup_f_nm_np1_fr_med_0.avi', 1),
        ('10_Pull_Ups_pullup_u_cm_np1_fr_goo_0.avi', 2),
        ('Pull_ups_pullup_u_cm_np1_ba_med_1.avi', 1)]


@pytest.mark.parametrize('split,subset,expected', [
    (1, 'train', [('brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi', BRUSH),
                  ('brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi', BRUSH),
                  ('pullup/100_pullups_pullup_f_nm_np1_fr_med_0.avi', PULLUP),
                  ('pullup/Pull_ups_pullup_u_cm_np1_ba_med_1.avi', PULLUP)]),
    (1, 'test', [('brush_hair/Brushing_my_long_hair_brush_hair_u_nm_np1_ba_goo_2.avi', BRUSH),
                 ('pullup/10_Pull_Ups_pullup_u_cm_np1_fr_goo_0.avi', PULLUP)]),
    (2, 'train', [('brush_hair/Brushing_my_long_hair_brush_hair_u_nm_np1_ba_goo_2.avi', BRUSH),
                  ('brush_hair/brushing_hair_brush_hair_f_nm_np2_ri_goo_1.avi', BRUSH),
                  ('pullup/10_Pull_Ups_pullup_u_cm_np1_fr_goo_0.avi', PULLUP)]),
])
def test_dataset_split_and_subset(split, subset, expected):
    ds = HMDB51Dataset(ann_file=str(SPLITS), split=split, subset=subset,
                       data_prefix=dict(video='vids'), pipeline=[], check_files=False)
    got = [(ds.get_data_info(i)['filename'], ds.get_data_info(i)['label'])
           for i in range(len(ds))]
    assert got == [(f'vids/{rel}', label) for rel, label in expected]
    assert ds.metainfo['classes'] == HMDB51_CLASSES


@pytest.mark.parametrize('text,line', [('a.avi 1 \nb.avi 3 \n', 2), ('a.avi\n', 1),
                                       ('a.avi 1\na.avi 2\n', 2)])
def test_malformed_line_names_file_and_line(tmp_path, text, line):
    path = tmp_path / 'walk_test_split1.txt'
    path.write_text(text)
    with pytest.raises(AnnotationError) as e:
        parse_hmdb51_split_file(str(path))
    assert str(e.value).startswith(f'{path}:{line}:')


def test_unknown_class_and_bad_arguments(tmp_path):
    (tmp_path / 'juggle_test_split1.txt').write_text('a.avi 1 \n')
    with pytest.raises(AnnotationError, match="'juggle' is not an HMDB51 class"):
        HMDB51Dataset(ann_file=str(tmp_path), pipeline=[], check_files=False)
    with pytest.raises(FileNotFoundError):
        HMDB51Dataset(ann_file=str(tmp_path), split=2, pipeline=[], check_files=False)
    with pytest.raises(ValueError):
        HMDB51Dataset(ann_file=str(SPLITS), subset='val', pipeline=[], check_files=False)


def test_config_builds_from_fixtures():
    init_default_scope('spact_mm')
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/datasets/hmdb51_split1_16x112x112.py'))
    for key, n in (('train_dataloader', 4), ('val_dataloader', 2), ('test_dataloader', 2)):
        cfg[key].dataset.update(data_root='', ann_file=str(SPLITS), check_files=False)
        assert len(DATASETS.build(cfg[key].dataset)) == n
