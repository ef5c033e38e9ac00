"""Bad input policy: a clear error naming file and line by default; counted skips on request."""
import json
import os.path as osp
import shutil

import cv2  # noqa: F401  (before decord, see README)
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from PIL import Image
from torch.utils.data import DataLoader

from spact_mm.datasets import (
    BadImageError,
    BadInputError,
    LoadPrivacyImage,
    RobustPrivacyImageDataset,
    RobustVideoDataset,
)
from spact_mm.datasets.image_loading import decode_image
from spact_mm.datasets.synthetic import write_video
from spact_mm.testing import tiny_video_pipeline
from spact_mm.utils.compat import get_gt_label

PIPELINE = tiny_video_pipeline()


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (n, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    write_video(str(root / 'good0.mp4'), _frames(12, 0), 8)
    write_video(str(root / 'good1.mp4'), _frames(12, 1), 8)
    write_video(str(root / 'short.mp4'), _frames(4, 2), 8)
    data = (root / 'good0.mp4').read_bytes()
    (root / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    (root / 'zero.mp4').write_bytes(b'')
    (root / 'notvideo.mp4').write_text('this is a text file, not a video\n')
    return str(root)


def make_ann(root, name, lines):
    path = osp.join(root, name)
    with open(path, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    return path


def dataset(root, lines, **kw):
    ann = make_ann(root, 'ann.txt', lines)
    return RobustVideoDataset(ann, PIPELINE, data_prefix=dict(video=root), num_classes=4, **kw)


GOOD = ['good0.mp4 1', 'good1.mp4 2']
# (bad line, where it is caught, expected words of the message)
LOAD_TIME = [
    ('missing.mp4 0', 'video file not found'),
    ('zero.mp4 0', 'empty (0 bytes)'),
    ('good0.mp4 1 extra', 'expected 2 fields'),
    ('good0.mp4', 'expected 2 fields'),
    ('good0.mp4 seven', 'not an integer'),
    ('good0.mp4 4', 'label 4 out of range [0, 4)'),
    ('good0.mp4 -2', 'out of range'),
]
FETCH_TIME = [
    ('truncated.mp4 0', 'truncated.mp4'),
    ('notvideo.mp4 0', 'notvideo.mp4'),
    ('short.mp4 0', 'video has 4 frames, fewer than the clip length 8'),
]


@pytest.mark.parametrize('bad,words', LOAD_TIME)
def test_bad_annotation_lines_and_files_raise_naming_file_and_line(videos, bad, words):
    with pytest.raises(BadInputError, match='ann.txt, line 3') as err:
        dataset(videos, GOOD + [bad])
    assert words in str(err.value)


@pytest.mark.parametrize('bad,words', FETCH_TIME)
def test_undecodable_and_short_videos_raise_naming_file_and_line(videos, bad, words):
    ds = dataset(videos, GOOD + [bad])
    ds[0]  # good ones load
    with pytest.raises(BadInputError) as err:
        ds[2]
    msg = str(err.value)
    assert bad.split()[0] in msg and 'line 3 of' in msg and words in msg


def test_error_from_inside_a_dataloader_worker_names_the_file(videos):
    ds = dataset(videos, ['truncated.mp4 0'] + GOOD)
    loader = DataLoader(ds, batch_size=1, num_workers=1, collate_fn=pseudo_collate)
    with pytest.raises(BadInputError, match=r'truncated\.mp4 \(line 1 of .*ann\.txt\)'):
        list(loader)


def test_empty_annotation_file_is_an_error_in_both_modes(videos):
    for policy in ('error', 'skip'):
        with pytest.raises(BadInputError, match='no usable entry'):
            dataset(videos, [], on_bad_input=policy)
        with pytest.raises(BadInputError, match='no usable entry'):
            dataset(videos, ['', '   '], on_bad_input=policy)


def test_skip_mode_logs_counts_and_keeps_every_good_item(videos):
    lines = GOOD + [bad for bad, _ in LOAD_TIME] + [bad for bad, _ in FETCH_TIME]
    ds = dataset(videos, lines, on_bad_input='skip')
    assert len(ds.skipped_at_load) == len(LOAD_TIME) and len(ds) == 2 + len(FETCH_TIME)
    for (_bad, words), msg in zip(LOAD_TIME, ds.skipped_at_load):
        assert words in msg and 'ann.txt, line' in msg
    # Fetch-time skips happen inside dataloader workers and are counted across them.
    loader = DataLoader(ds, batch_size=1, num_workers=2, collate_fn=pseudo_collate,
                        shuffle=False)
    got = [int(get_gt_label(b['data_samples'][0])) for b in loader]
    assert len(got) == len(ds) and set(got) <= {1, 2}  # replaced by good samples
    # Each bad item is hit once in order; mmengine's random re-fetch may hit one again.
    assert ds.num_skipped_at_fetch >= len(FETCH_TIME)


def test_skip_mode_never_skips_during_evaluation(videos):
    ds = dataset(videos, GOOD + ['short.mp4 0'], on_bad_input='skip', test_mode=True)
    with pytest.raises(BadInputError, match='short.mp4'):
        ds[2]


def test_report_hook_counts_per_epoch(videos):
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger
    from mmengine.runner import EpochBasedTrainLoop

    from spact_mm.engine.hooks import BadInputReportHook

    ds = dataset(videos, GOOD + ['missing.mp4 0', 'short.mp4 0'], on_bad_input='skip')
    loader = DataLoader(ds, batch_size=1, num_workers=0, collate_fn=pseudo_collate)
    logged = []
    logger = MMLogger.get_instance('bad_input_report_test')
    logger.warning = logged.append
    logger.info = logged.append
    hub = MessageHub.get_instance('bad_input_report_test')
    loop = EpochBasedTrainLoop.__new__(EpochBasedTrainLoop)
    runner = SimpleNamespace(train_dataloader=loader, train_loop=loop, logger=logger,
                             message_hub=hub)
    hook = BadInputReportHook()
    hook.before_train(runner)
    assert hub.get_scalar('train/bad_inputs_skipped_at_load').current() == 1
    for epoch in (1, 2):
        before = ds.num_skipped_at_fetch
        list(loader)
        total = ds.num_skipped_at_fetch
        assert total - before >= 1  # short.mp4, plus any random re-fetch that hit it again
        hook.after_train_epoch(runner)
        assert (f'epoch {epoch}: {total - before} samples skipped while loading this epoch, '
                f'{total} in total') in logged[-1]
        assert hub.get_scalar('train/bad_inputs_skipped').current() == total


def test_report_hook_epochs_add_up_to_the_total(videos):
    """Skips made before ``before_train`` (mmengine's IterBasedTrainLoop starts the
    workers, which prefetch, before it) belong to epoch 1; skips after the last epoch's
    report are reported at the end (issue 16, item 8)."""
    import re
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger
    from mmengine.runner import EpochBasedTrainLoop

    from spact_mm.engine.hooks import BadInputReportHook

    ds = dataset(videos, GOOD + ['short.mp4 0'], on_bad_input='skip')
    loader = DataLoader(ds, batch_size=1, num_workers=0, collate_fn=pseudo_collate)
    logged = []
    logger = MMLogger.get_instance('bad_input_report_sum_test')
    logger.warning = logged.append
    logger.info = logged.append
    runner = SimpleNamespace(train_dataloader=loader, logger=logger,
                             train_loop=EpochBasedTrainLoop.__new__(EpochBasedTrainLoop),
                             message_hub=MessageHub.get_instance('bad_input_report_sum_test'))
    hook = BadInputReportHook()
    assert ds.prepare_data(2) is None  # a prefetch before before_train
    early = ds.num_skipped_at_fetch
    hook.before_train(runner)
    list(loader)
    hook.after_train_epoch(runner)
    assert f'epoch 1: {ds.num_skipped_at_fetch} samples skipped' in logged[-1]
    assert ds.num_skipped_at_fetch > early == 1
    list(loader)
    hook.after_train_epoch(runner)
    assert ds.prepare_data(2) is None  # prefetched for an epoch that never ran
    hook.after_train(runner)
    assert 'end of training: 1 samples' in logged[-1]
    per_report = [int(re.search(r'(?:epoch \d+|end of training): (\d+) samples', m).group(1))
                  for m in logged if 'bad-input report' in m]
    assert sum(per_report) == ds.num_skipped_at_fetch


# ------------------------------------------------------------------ images
def _rgb(h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _encode(img, fmt, **kw):
    import io

    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_grayscale_becomes_three_equal_channels():
    gray = _rgb()[..., 0]
    out = decode_image(_encode(Image.fromarray(gray, 'L'), 'PNG'))
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    assert all(np.array_equal(out[..., c], gray) for c in range(3))


def test_rgba_is_composited_over_white():
    rgb = _rgb().astype(np.float64)
    alpha = np.random.default_rng(1).integers(0, 256, (5, 7), dtype=np.uint8)
    rgba = np.dstack([rgb.astype(np.uint8), alpha])
    out = decode_image(_encode(Image.fromarray(rgba, 'RGBA'), 'PNG'))
    a = alpha[..., None] / 255.0
    expected = np.rint(rgb * a + 255.0 * (1 - a))  # float64 reference
    assert np.array_equal(out, expected.astype(np.uint8))


def test_16bit_grayscale_is_rescaled_not_clipped():
    g16 = np.random.default_rng(2).integers(0, 65536, (5, 7)).astype(np.uint16)
    ok, png = cv2.imencode('.png', g16)
    out = decode_image(png.tobytes())
    expected = np.rint(g16.astype(np.float64) * 255 / 65535).astype(np.uint8)
    assert np.array_equal(out[..., 0], expected) and np.array_equal(out[..., 2], expected)


def test_16bit_colour_keeps_the_top_byte():
    c16 = np.random.default_rng(3).integers(0, 65536, (5, 7, 3)).astype(np.uint16)
    ok, png = cv2.imencode('.png', c16[..., ::-1])  # cv2 writes BGR
    out = decode_image(png.tobytes()).astype(int)
    assert np.abs(out - (c16.astype(np.float64) / 257)).max() <= 1.0


def test_cmyk_jpeg_is_converted_to_rgb():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:] = (200, 50, 10)
    out = decode_image(_encode(Image.fromarray(rgb).convert('CMYK'), 'JPEG', quality=100))
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 3


@pytest.mark.parametrize('content,words', [(b'', 'empty file'), (b'GIF89a broken', 'cannot decode'),
                                           (b'\x89PNG\r\n\x1a\n' + b'\0' * 20, 'cannot decode')])
def test_undecodable_images_raise(content, words):
    with pytest.raises(BadImageError, match=words):
        decode_image(content)


def test_load_privacy_image_transform_bgr_like_load_image_from_file(tmp_path):
    rgb = _rgb()
    path = str(tmp_path / 'x.png')
    Image.fromarray(rgb).save(path)
    out = LoadPrivacyImage()(dict(img_path=path))
    assert np.array_equal(out['img'], rgb[..., ::-1]) and out['img_shape'] == (5, 7)
    assert np.array_equal(LoadPrivacyImage(channel_order='rgb')(dict(img_path=path))['img'], rgb)


@pytest.fixture()
def image_set(tmp_path):
    root = tmp_path
    (root / 'images').mkdir()
    Image.fromarray(_rgb()).save(root / 'images/rgb.png')
    Image.fromarray(_rgb()[..., 0], 'L').save(root / 'images/gray.png')
    Image.fromarray(np.dstack([_rgb(), np.full((5, 7), 128, np.uint8)]), 'RGBA').save(
        root / 'images/rgba.png')
    Image.fromarray(_rgb()).convert('CMYK').save(root / 'images/cmyk.jpg')
    cv2.imwrite(str(root / 'images/g16.png'), np.full((5, 7), 40000, np.uint16))
    (root / 'images/broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 20)
    (root / 'images/zero.png').write_bytes(b'')
    return root


def image_ds(root, entries, **kw):
    ann = root / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo=dict(classes=['hat', 'car', 'tree']),
                                   data_list=entries)))
    pipeline = [dict(type='LoadPrivacyImage'), dict(type='mmpretrain.PackInputs')]
    return RobustPrivacyImageDataset(str(ann), data_prefix=str(root), pipeline=pipeline, **kw)


GOOD_IMAGES = [dict(img_path=f'images/{n}', gt_label=[0, 'car'])
               for n in ('rgb.png', 'gray.png', 'rgba.png', 'cmyk.jpg', 'g16.png')]


def test_every_pixel_format_is_loaded_none_dropped(image_set):
    ds = image_ds(image_set, GOOD_IMAGES)
    assert len(ds) == 5
    for i in range(5):
        sample = ds[i]
        assert tuple(sample['inputs'].shape) == (3, 5, 7)
        assert sample['data_samples'].gt_label.tolist() == [0, 1]  # 'car' -> index 1


@pytest.mark.parametrize('entry,words', [
    (dict(img_path='images/rgb.png', gt_label=['hat', 'beard']), "unknown attribute name 'beard'"),
    (dict(img_path='images/rgb.png', gt_label=[3]), 'attribute index 3 out of range [0, 3)'),
    (dict(gt_label=[0]), 'expected an object with "img_path"'),
    (dict(img_path='images/none.png', gt_label=[0]), 'image not found'),
    (dict(img_path='images/zero.png', gt_label=[0]), 'empty (0 bytes)'),
])
def test_malformed_privacy_entries_raise_naming_entry(image_set, entry, words):
    with pytest.raises(BadInputError, match='ann.json, entry 6') as err:
        image_ds(image_set, GOOD_IMAGES + [entry])
    assert words in str(err.value)
    ds = image_ds(image_set, GOOD_IMAGES + [entry], on_bad_input='skip')
    assert len(ds) == 5 and len(ds.skipped_at_load) == 1


def test_undecodable_privacy_image(image_set):
    entries = GOOD_IMAGES + [dict(img_path='images/broken.png', gt_label=[0])]
    with pytest.raises(BadInputError, match=r'broken\.png \(entry 6 of .*ann\.json\)'):
        image_ds(image_set, entries)[5]
    ds = image_ds(image_set, entries, on_bad_input='skip')
    assert torch.is_tensor(ds[5]['inputs']) and ds.num_skipped_at_fetch >= 1


def test_empty_privacy_annotation(image_set):
    with pytest.raises(BadInputError, match='data_list is empty'):
        image_ds(image_set, [])
    (image_set / 'empty.json').write_text('')
    with pytest.raises(BadInputError, match='the file is empty'):
        RobustPrivacyImageDataset(str(image_set / 'empty.json'), pipeline=[])
    shutil.rmtree(image_set / 'images')
