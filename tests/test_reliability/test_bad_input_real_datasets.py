"""The bad-input policy in the real datasets' readers (issue 16, item 7).

``UCF101Dataset``, ``HMDB51Dataset``, ``PAHMDBDataset``, ``HVUDataset`` and
``VISPRDataset`` read the official annotation layouts. Each gets the policy of
``RobustVideoDataset`` / ``RobustPrivacyImageDataset``: a malformed line or
entry, a label that is not one (99, -1, ``'beard'``, ``'1'``), a label beyond
``num_classes``, a missing or zero-byte file, a truncated file and a video
shorter than the clip are a ``BadInputError`` naming the annotation file and
line by default, and are dropped (or replaced) and counted with
``on_bad_input='skip'``. The layouts are written by each test into
``tmp_path`` from a few tiny videos and images.
"""
import json
import shutil
from functools import partial
from pathlib import Path

import cv2  # noqa: F401  (before decord, see README)
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from spact_mm.datasets import (
    BadInputError,
    HMDB51Dataset,
    HVUDataset,
    PAHMDBDataset,
    UCF101Dataset,
    VISPRDataset,
)
from spact_mm.datasets.annotation_io import AnnotationError
from spact_mm.datasets.synthetic import write_video
from spact_mm.testing import tiny_video_pipeline

PIPELINE = tiny_video_pipeline()
FRAME_PIPELINE = [dict(type='DecordInit'), dict(type='DecordDecode')]
CLASSES = ('brush_hair', 'pullup')  # HMDB51 class names, used as UCF101 classes too
# Label fields that are no label: out of range, negative, a word, a wrong index.
NOT_A_LABEL = ['99', '-1', 'beard', '1']


@pytest.fixture(scope='module')
def videos(tmp_path_factory) -> Path:
    """``<root>/<class>/{good0,good1,two,truncated,zero}.mp4`` for both classes."""
    root = tmp_path_factory.mktemp('videos')
    rng = np.random.default_rng(0)
    src = root / 'src'
    src.mkdir()
    for name, n in (('good0.mp4', 12), ('good1.mp4', 12), ('two.mp4', 2)):
        write_video(str(src / name), rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8), 8)
    data = (src / 'good0.mp4').read_bytes()
    (src / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    (src / 'zero.mp4').write_bytes(b'')
    for cls in CLASSES:
        shutil.copytree(src, root / cls)
    return root


def _raises_named(build, where: str, words: str) -> None:
    """``build()`` raises a BadInputError (also an AnnotationError for parsed lines)
    whose message starts with the annotation file and line and contains ``words``."""
    with pytest.raises(BadInputError) as err:
        build()
    msg = str(err.value)
    assert msg.startswith(where), msg
    assert words in msg, msg


# ------------------------------------------------------------------------ UCF101
def ucf101(tmp_path, videos, lines, **kw) -> UCF101Dataset:
    (tmp_path / 'classInd.txt').write_text(''.join(f'{i} {c}\n'
                                                   for i, c in enumerate(CLASSES, 1)))
    (tmp_path / 'trainlist01.txt').write_text(''.join(f'{line}\n' for line in lines))
    return UCF101Dataset(str(tmp_path / 'trainlist01.txt'), PIPELINE,
                         class_index_file=str(tmp_path / 'classInd.txt'),
                         data_prefix=dict(video=str(videos)), **kw)


UCF_GOOD = ['brush_hair/good0.mp4 1', 'pullup/good1.mp4 2']
UCF_BAD = [(f'pullup/good0.mp4 {x}', 'not a number' if not x.isdigit() else 'disagrees')
           for x in NOT_A_LABEL] + [
    ('brush_hair/zero.mp4 1', 'video file is empty (0 bytes)'),
    ('brush_hair/missing.mp4 1', 'video file not found'),
    ('Bowling/good0.mp4', "class 'Bowling' is not in classInd.txt"),
    ('brush_hair/good0.mp4 1 x', 'expected'),
]


@pytest.mark.parametrize('line,words', UCF_BAD)
def test_ucf101_bad_lines_are_named(tmp_path, videos, line, words):
    _raises_named(lambda: ucf101(tmp_path, videos, UCF_GOOD + [line]),
                  f'{tmp_path / "trainlist01.txt"}:3:', words)
    if 'video file' not in words:  # a malformed line is still the parsers' error type too
        with pytest.raises(AnnotationError):
            ucf101(tmp_path, videos, UCF_GOOD + [line])


def test_ucf101_label_beyond_num_classes(tmp_path, videos):
    _raises_named(lambda: ucf101(tmp_path, videos, UCF_GOOD, num_classes=1),
                  f'{tmp_path / "trainlist01.txt"}:2:', 'label 1 out of range [0, 1)')


def test_ucf101_skip_mode_drops_and_counts(tmp_path, videos):
    ds = ucf101(tmp_path, videos, UCF_GOOD + [line for line, _ in UCF_BAD],
                on_bad_input='skip')
    assert len(ds) == 2 and len(ds.skipped_at_load) == len(UCF_BAD)
    assert [ds.get_data_info(i)['label'] for i in range(2)] == [0, 1]
    assert ds[1]['inputs'].shape[-1] == 16


def test_ucf101_broken_and_short_videos_at_fetch(tmp_path, videos):
    lines = UCF_GOOD + ['brush_hair/truncated.mp4 1', 'pullup/two.mp4 2']
    ds = ucf101(tmp_path, videos, lines)
    ann = tmp_path / 'trainlist01.txt'
    with pytest.raises(BadInputError, match=rf'truncated\.mp4 \(line 3 of {ann}\)'):
        ds[2]
    with pytest.raises(BadInputError, match=rf'two\.mp4 \(line 4 of {ann}\): ValueError: video '
                                            r'has 2 frames, fewer than the clip length 8'):
        ds[3]
    skip = ucf101(tmp_path, videos, lines, on_bad_input='skip')
    assert skip.prepare_data(2) is None and skip.prepare_data(3) is None
    assert skip.num_skipped_at_fetch == 2


# ------------------------------------------------------------------------ HMDB51
def hmdb51(tmp_path, videos, lines, **kw) -> HMDB51Dataset:
    splits = tmp_path / 'splits'
    splits.mkdir(exist_ok=True)
    (splits / 'brush_hair_test_split1.txt').write_text('good0.mp4 1 \n')
    (splits / 'pullup_test_split1.txt').write_text(''.join(f'{line} \n' for line in lines))
    return HMDB51Dataset(str(splits), PIPELINE, data_prefix=dict(video=str(videos)), **kw)


HMDB_GOOD = ['good0.mp4 1', 'good1.mp4 2']
HMDB_BAD = [(f'good1.mp4 {x}', 'expected "<video>.avi <0|1|2>"') for x in ('99', '-1', 'beard')
            ] + [('good0.mp4 2', "video 'good0.mp4' is listed twice"),
                 ('zero.mp4 1', 'video file is empty (0 bytes)'),
                 ('missing.mp4 1', 'video file not found')]


@pytest.mark.parametrize('line,words', HMDB_BAD)
def test_hmdb51_bad_lines_are_named(tmp_path, videos, line, words):
    _raises_named(lambda: hmdb51(tmp_path, videos, HMDB_GOOD + [line]),
                  f'{tmp_path / "splits" / "pullup_test_split1.txt"}:3:', words)


def test_hmdb51_skip_mode_and_fetch(tmp_path, videos):
    ds = hmdb51(tmp_path, videos, HMDB_GOOD + [line for line, _ in HMDB_BAD] + [
        'truncated.mp4 1', 'two.mp4 1'], on_bad_input='skip')
    assert len(ds.skipped_at_load) == len(HMDB_BAD)
    names = [Path(ds.get_data_info(i)['filename']).name for i in range(len(ds))]
    assert names == ['good0.mp4', 'good0.mp4', 'truncated.mp4', 'two.mp4']
    assert ds[1]['inputs'].shape[-1] == 16
    assert ds.prepare_data(2) is None and ds.prepare_data(3) is None
    assert ds.num_skipped_at_fetch == 2
    err = hmdb51(tmp_path, videos, HMDB_GOOD + ['truncated.mp4 1'])
    split = tmp_path / 'splits' / 'pullup_test_split1.txt'
    with pytest.raises(BadInputError, match=rf'truncated\.mp4 \(line 3 of {split}\)'):
        err[2]
    _raises_named(lambda: hmdb51(tmp_path, videos, HMDB_GOOD, num_classes=2),
                  f'{split}:1:', 'label 26 out of range [0, 2)')


# ----------------------------------------------------------------------- PA-HMDB
def pa_hmdb(tmp_path, videos, annos, pipeline=PIPELINE, **kw) -> PAHMDBDataset:
    ann = tmp_path / 'PrivacyAttributes'
    ann.mkdir(exist_ok=True)
    (ann / 'pullup.json').write_text(json.dumps(annos, indent=1))
    return PAHMDBDataset(str(ann), pipeline, data_prefix=dict(video=str(videos)), **kw)


PA_GOOD = {'good0.mp4': {'face': [[0, 11, 1]]}, 'good1.mp4': {'gender': [[0, 11, [1, 2]]]}}
PA_BAD = [({'face': [[0, 11, v]]}, 'face: value must be an int') for v in (99, -1, 'beard', '1')
          ] + [({'beard': [[0, 11, 1]]}, "unknown keys ['beard']"),
               ({'face': [[5, 2, 1]]}, 'face: need 0 <= start <= end')]


@pytest.mark.parametrize('anno,words', PA_BAD)
def test_pa_hmdb_bad_entries_are_named(tmp_path, videos, anno, words):
    path = tmp_path / 'PrivacyAttributes' / 'pullup.json'
    _raises_named(lambda: pa_hmdb(tmp_path, videos, dict(PA_GOOD, **{'two.mp4': anno})),
                  f'{path}:', "video 'two.mp4': " + words)


def test_pa_hmdb_missing_empty_and_skip(tmp_path, videos):
    path = tmp_path / 'PrivacyAttributes' / 'pullup.json'
    face = {'face': [[0, 11, 1]]}
    for video, words in (('zero.mp4', 'video file is empty (0 bytes)'),
                         ('missing.mp4', 'video file not found')):
        _raises_named(partial(pa_hmdb, tmp_path, videos, dict(PA_GOOD, **{video: face})),
                      f'{path}:', words)
    bad = {f'bad{i}.mp4': anno for i, (anno, _) in enumerate(PA_BAD)}
    ds = pa_hmdb(tmp_path, videos, dict(PA_GOOD, **bad, **{'zero.mp4': face,
                                                          'truncated.mp4': face,
                                                          'two.mp4': face}),
                 on_bad_input='skip')
    assert len(ds.skipped_at_load) == len(PA_BAD) + 1 and len(ds) == 4
    assert ds[0]['inputs'].shape[-1] == 16
    assert ds.prepare_data(2) is None and ds.prepare_data(3) is None  # truncated, two frames
    assert ds.num_skipped_at_fetch == 2
    err = pa_hmdb(tmp_path, videos, dict(PA_GOOD, **{'two.mp4': face}))
    with pytest.raises(BadInputError, match=r'two\.mp4 \(line \d+ of .*pullup\.json\): '
                                            r'ValueError: video has 2 frames'):
        err[2]


def test_pa_hmdb_frames_beyond_the_video_are_named(tmp_path, videos):
    """Frame mode: an annotation longer than the video (12 frames) names the frame."""
    ds = pa_hmdb(tmp_path, videos, {'good0.mp4': {'face': [[0, 14, 1]]}},
                 pipeline=FRAME_PIPELINE, frame_level=True)
    assert ds[11]['imgs'][0].shape == (32, 32, 3)
    with pytest.raises(BadInputError, match=r"good0\.mp4 \(line 2 of .*pullup\.json\): "
                                            r"ValueError: annotated frame 12 is beyond the "
                                            r"video's 12 frames"):
        ds[12]


# --------------------------------------------------------------------------- HVU
def hvu(tmp_path, videos, rows, **kw) -> HVUDataset:
    cats = tmp_path / 'cats.csv'
    cats.write_text('Tag,Category\nrun,action\ndog,object\npark,scene\n')
    csv_path = tmp_path / 'HVU_Train_V1.0.csv'
    csv_path.write_text('Tags,youtube_id,time_start,time_end\n' +
                        ''.join(f'{row}\n' for row in rows))
    return HVUDataset(str(csv_path), str(cats), PIPELINE, filename_tmpl='{youtube_id}.mp4',
                      data_prefix=dict(video=str(videos / 'pullup')), **kw)


HVU_GOOD = ['run|dog|park,good0,0,10', 'run|park,good1,0,10']
HVU_BAD = [(f'run|{x},good0,0,10', f"tags not in the category file: ['{x}']")
           for x in NOT_A_LABEL] + [('run,good0,10,0', 'need 0 <= time_start < time_end'),
                                    ('run,good0,0', 'expected 4 fields'),
                                    ('run,zero,0,10', 'video file is empty (0 bytes)'),
                                    ('run,missing,0,10', 'video file not found')]


@pytest.mark.parametrize('row,words', HVU_BAD)
def test_hvu_bad_rows_are_named(tmp_path, videos, row, words):
    _raises_named(lambda: hvu(tmp_path, videos, HVU_GOOD + [row]),
                  f'{tmp_path / "HVU_Train_V1.0.csv"}:4:', words)


def test_hvu_skip_mode_and_fetch(tmp_path, videos):
    ds = hvu(tmp_path, videos, HVU_GOOD + [row for row, _ in HVU_BAD] +
             ['run,truncated,0,10', 'run,two,0,10'], on_bad_input='skip')
    assert len(ds.skipped_at_load) == len(HVU_BAD) and len(ds) == 4
    assert ds[1]['inputs'].shape[-1] == 16
    assert ds.prepare_data(2) is None and ds.prepare_data(3) is None
    assert ds.num_skipped_at_fetch == 2
    err = hvu(tmp_path, videos, HVU_GOOD + ['run,truncated,0,10'])
    csv_path = tmp_path / 'HVU_Train_V1.0.csv'
    with pytest.raises(BadInputError, match=rf'truncated\.mp4 \(line 4 of {csv_path}\)'):
        err[2]


# ------------------------------------------------------------------------- VISPR
def vispr(tmp_path, entries, extra_lines=(), pipeline=(dict(type='LoadPrivacyImage'), ),
          **kw) -> VISPRDataset:
    """``entries``: ``(image name or None, labels)``; ``None`` lists a missing json."""
    rng = np.random.default_rng(1)
    (tmp_path / 'images').mkdir(exist_ok=True)
    (tmp_path / 'annotations').mkdir(exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
        tmp_path / 'images' / 'good.png')
    data = (tmp_path / 'images' / 'good.png').read_bytes()
    (tmp_path / 'images' / 'truncated.png').write_bytes(data[:len(data) // 2])
    (tmp_path / 'images' / 'zero.png').write_bytes(b'')
    lines = []
    for i, (image, labels) in enumerate(entries):
        rel = f'annotations/{i}.json'
        if image is not None:
            (tmp_path / rel).write_text(json.dumps(
                {'id': str(i), 'image_path': f'images/{image}', 'labels': labels}))
        lines.append(rel)
    (tmp_path / 'train2017.txt').write_text('\n'.join(lines + list(extra_lines)) + '\n')
    init_default_scope('spact_mm')
    return VISPRDataset('train2017.txt', data_root=str(tmp_path),
                        pipeline=list(pipeline), **kw)


VISPR_GOOD = [('good.png', ['a4_gender']), ('good.png', ['a17_color', 'a0_safe'])]
VISPR_BAD = [(('good.png', [x]), f"labels ['{x}'] are not VISPR attribute ids")
             for x in ('beard', '1')] + [
    (('good.png', [x]), '"labels" must be a list of attribute ids') for x in (99, -1)] + [
    (('zero.png', ['a4_gender']), 'image is empty (0 bytes)'),
    (('missing.png', ['a4_gender']), 'image not found'),
    ((None, []), 'listed annotation file is missing')]


@pytest.mark.parametrize('entry,words', VISPR_BAD)
def test_vispr_bad_entries_are_named(tmp_path, entry, words):
    """Named by the list line, or by the annotation json for what is inside it."""
    where = (str(tmp_path / 'annotations' / '2.json')
             if 'labels' in words else f'{tmp_path / "train2017.txt"}:3:')
    _raises_named(lambda: vispr(tmp_path, VISPR_GOOD + [entry]), where, words)


def test_vispr_skip_mode_and_fetch(tmp_path):
    ds = vispr(tmp_path, VISPR_GOOD + [e for e, _ in VISPR_BAD] + [('truncated.png', [])],
               extra_lines=['images/good.png'], on_bad_input='skip')
    assert len(ds.skipped_at_load) == len(VISPR_BAD) + 1 and len(ds) == 3
    assert ds.get_data_info(1)['gt_label'] == [0]  # a17_color; a0_safe is not in VISPR-1
    assert ds[1]['img'].shape == (8, 8, 3)
    assert ds.prepare_data(2) is None and ds.num_skipped_at_fetch == 1
    err = vispr(tmp_path, VISPR_GOOD + [('truncated.png', [])])
    with pytest.raises(BadInputError, match=rf'truncated\.png \(line 3 of '
                                            rf'{tmp_path / "train2017.txt"}\): BadImageError'):
        err[2]


def test_the_skip_report_sees_both_halves_of_an_action_privacy_pair(tmp_path, videos):
    """``BadInputReportHook`` counts the skips of the datasets inside
    ``ActionPrivacyPairDataset`` (the cross-dataset protocol's training set)."""
    from spact_mm.datasets import ActionPrivacyPairDataset
    from spact_mm.engine.hooks.bad_input_report_hook import _policy_datasets

    action = ucf101(tmp_path, videos, UCF_GOOD)
    privacy_root = tmp_path / 'vispr'
    privacy_root.mkdir()
    privacy = vispr(privacy_root, VISPR_GOOD, pipeline=[
        dict(type='LoadPrivacyImage', channel_order='rgb'), dict(type='mmpretrain.PackInputs')])
    pair = ActionPrivacyPairDataset(action, privacy, lazy_init=True)
    assert list(_policy_datasets(pair)) == [action, privacy]
