"""PA-HMDB annotations (:mod:`spact_mm.datasets.pa_hmdb`).

Fixtures in ``tests/data/pa_hmdb/PrivacyAttributes`` follow VITA-Group/PA-HMDB51's
``<action>.json`` format (the three brush_hair entries are copied from the real
file; the pullup entry is made up to have attributes change inside a video).
Per-frame labels are checked against an independent re-implementation of Wu et
al.'s converter (per-frame dict, ``value != 0``).
"""
import shutil
from pathlib import Path

# cv2 before decord (decord's bundled zlib breaks cv2's PNG reading otherwise).
import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.pa_hmdb import (
    PA_HMDB_ATTRIBUTES,
    PAHMDBDataset,
    frame_labels,
    parse_pa_hmdb_file,
)
from spact_mm.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / 'tests' / 'data' / 'pa_hmdb' / 'PrivacyAttributes'
CFG = ROOT / 'configs' / '_base_' / 'datasets'
PULLUP_VIDEO = '100_pullups_pullup_f_nm_np1_fr_med_0.avi'
BRUSH, PULLUP = 0, 26  # HMDB51 class indices


def _wu_converter(raw: dict) -> dict:
    """Wu et al.'s per-frame conversion, written out independently: {frame: set(attrs)}."""
    frames = {}
    for attr in PA_HMDB_ATTRIBUTES:
        for start, end, value in raw.get(attr, []):
            for i in range(start, end + 1):
                frames.setdefault(i, {})[attr] = value
    return {i: {a for a, v in d.items() if v != 0} for i, d in frames.items()}


def test_parse_and_frame_labels_match_reference():
    import json
    for path in sorted(DATA.glob('*.json')):
        raw = json.loads(path.read_text())
        parsed = parse_pa_hmdb_file(str(path))
        assert list(parsed) == list(raw)
        for video, segments in parsed.items():
            labels = frame_labels(segments)
            ref = _wu_converter(raw[video])
            assert labels.shape == (max(ref) + 1, 5)
            for t in range(len(labels)):
                assert {PA_HMDB_ATTRIBUTES[j] for j in np.flatnonzero(labels[t])} == ref[t]
    gender = parse_pa_hmdb_file(str(DATA / 'brush_hair.json'))[
        'brushing_hair_brush_hair_f_nm_np2_ri_goo_1.avi']['gender']
    assert gender == [(0, 229, (1, 2))]  # a male and a female


def test_video_entries():
    ds = PAHMDBDataset(ann_file=str(DATA), data_prefix=dict(video='hmdb'), pipeline=[],
                       check_files=False)
    assert ds.metainfo['classes'] == PA_HMDB_ATTRIBUTES
    got = [(d['filename'], d['label'], d['gt_label'], len(d['frame_labels']))
           for d in ds.load_data_list()]
    # skin_color, face, gender, nudity, relationship present anywhere in the video
    assert got == [
        ('hmdb/brush_hair/brushing_hair_brush_hair_f_nm_np2_ri_goo_1.avi', BRUSH,
         [0, 1, 2, 4], 230),
        ('hmdb/brush_hair/Brushing_Hair_with_Beth_brush_hair_u_nm_np1_fr_goo_1.avi', BRUSH,
         [0, 1, 2, 3], 142),
        ('hmdb/brush_hair/Brushing_my_long_hair_brush_hair_u_nm_np1_ba_goo_2.avi', BRUSH,
         [0, 2, 3], 254),
        (f'hmdb/pullup/{PULLUP_VIDEO}', PULLUP, [0, 1, 2, 3], 20)]
    for d in ds.load_data_list():
        np.testing.assert_array_equal(np.flatnonzero(d['privacy_label']), d['gt_label'])


def test_frame_entries():
    ds = PAHMDBDataset(ann_file=str(DATA / 'pullup.json'), frame_level=True, pipeline=[],
                       check_files=False)
    entries = ds.load_data_list()
    assert [d['frame_index'] for d in entries] == list(range(20))
    # pullup: skin+gender always; nudity frames 0-4; face frames 10-19
    for d in entries:
        t = d['frame_index']
        assert d['gt_label'] == sorted([0, 2] + ([3] if t <= 4 else []) +
                                       ([1] if t >= 10 else []))
        assert d['frame_inds'].tolist() == [t] and d['clip_len'] == d['num_clips'] == 1
    every5 = PAHMDBDataset(ann_file=str(DATA), frame_level=True, frame_interval=5, pipeline=[],
                           check_files=False)
    assert len(every5) == 46 + 29 + 51 + 4  # ceil(n / 5) for 230, 142, 254, 20 frames


@pytest.mark.parametrize('old,new,msg', [
    ('[\n                0,\n                9,\n                0\n            ]',
     '[\n                0,\n                9,\n                3\n            ]', 'face'),
    ('[\n                0,\n                4,\n                1\n            ]',
     '[\n                4,\n                0,\n                1\n            ]', 'start <= end'),
    ('"note": ""', '"notes": ""', 'unknown keys'),
])
def test_malformed_video_names_file_and_line(tmp_path, old, new, msg):
    text = (DATA / 'pullup.json').read_text()
    assert old in text
    path = tmp_path / 'pullup.json'
    path.write_text(text.replace(old, new))
    with pytest.raises(AnnotationError, match=msg) as e:
        parse_pa_hmdb_file(str(path))
    assert str(e.value).startswith(f'{path}:2: video {PULLUP_VIDEO!r}')  # line of the key


def test_invalid_json_and_unknown_action(tmp_path):
    bad = tmp_path / 'pullup.json'
    bad.write_text('{\n  "a.avi": {"face": [[0, 1, 2]]},\n  "b.avi": {"face": [[0, 1, 2]]\n}')
    with pytest.raises(AnnotationError) as e:
        parse_pa_hmdb_file(str(bad))
    assert str(e.value).startswith(f'{bad}:4:')
    (tmp_path / 'juggle.json').write_text('{}')
    with pytest.raises(AnnotationError, match='not an action class'):
        PAHMDBDataset(ann_file=str(tmp_path / 'juggle.json'), pipeline=[], check_files=False)


def test_video_config_builds():
    init_default_scope('spact_mm')
    cfg = Config.fromfile(str(CFG / 'pa_hmdb_16x112x112.py'))
    assert cfg.train_dataloader is None
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(ann_file=str(DATA), check_files=False)
        ds = DATASETS.build(cfg[key].dataset)
        assert [d['label'] for d in ds.load_data_list()] == [BRUSH] * 3 + [PULLUP]


def test_frame_config_decodes_the_annotated_frame(tmp_path):
    """End to end: the frame-level config decodes frame t of the video, labelled as frame t."""
    video_dir = tmp_path / 'videos' / 'pullup'
    video_dir.mkdir(parents=True)
    writer = cv2.VideoWriter(str(video_dir / PULLUP_VIDEO), cv2.VideoWriter_fourcc(*'MJPG'),
                             10, (64, 48))
    for t in range(20):  # frame t has grey level 10 t + 20
        writer.write(np.full((48, 64, 3), 10 * t + 20, np.uint8))
    writer.release()
    init_default_scope('spact_mm')
    cfg = Config.fromfile(str(CFG / 'pa_hmdb_frames_112x112.py'))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(ann_file=str(DATA / 'pullup.json'), data_prefix=dict(video=str(
        tmp_path / 'videos')), frame_interval=3)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 7
    for i in range(len(ds)):
        sample, info = ds[i], ds.get_data_info(i)
        assert tuple(sample['inputs'].shape) == (3, 112, 112)
        assert abs(float(sample['inputs'].float().mean()) - (10 * info['frame_index'] + 20)) < 4
        assert sample['data_samples'].gt_label.tolist() == info['gt_label']
    shutil.rmtree(tmp_path / 'videos')
