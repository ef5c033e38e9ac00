"""Tests of the synthetic privacy-action dataset (:mod:`spact_mm.datasets.synthetic`)."""
import contextlib
import io
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

# cv2 is imported before decord on purpose: decord loads its bundled zlib 1.2.3 with
# RTLD_GLOBAL, and a cv2 loaded after it cannot read PNG files any more.
import cv2  # noqa: F401
import decord
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from spact_mm.datasets import synthetic
from spact_mm.datasets.synthetic import (
    ACTION_SET_A,
    ACTION_SET_B,
    PERSON_ATTRIBUTES,
    PRIVACY_ATTRIBUTES,
    SCENE_ATTRIBUTES,
    generate_synthetic_dataset,
    render_clip,
    sample_clip_spec,
)

SMALL = dict(videos_per_class=2, val_videos_per_class=1, num_frames=8, size=32)
SETS = {'a': ACTION_SET_A, 'b': ACTION_SET_B}


def _generate(root: str, **kwargs) -> dict:
    with contextlib.redirect_stdout(io.StringIO()):  # silence the progress bar
        return generate_synthetic_dataset(root, **kwargs)


def _load(root: str, rel: str) -> dict:
    with open(osp.join(root, rel), encoding='utf-8') as f:
        return json.load(f)


def _read_video(path: str) -> np.ndarray:
    reader = decord.VideoReader(path)
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def _read_image(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert('RGB'))


def _annotation_files(root: str) -> Dict[str, bytes]:
    files = {}
    for name in sorted(os.listdir(osp.join(root, 'annotations'))) + ['../meta.json']:
        with open(osp.join(root, 'annotations', name), 'rb') as f:
            files[name] = f.read()
    return files


@pytest.fixture(scope='module')
def small_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('synthetic') / 'small')
    _generate(root, seed=0, **SMALL)
    return root


def test_determinism(small_root, tmp_path):
    """Same seed: identical annotation files and frames; another seed: different."""
    again = str(tmp_path / 'again')
    other = str(tmp_path / 'other')
    _generate(again, seed=0, **SMALL)
    _generate(other, seed=1, **SMALL)
    files = _annotation_files(small_root)
    assert len(files) == 11
    assert files == _annotation_files(again)
    other_files = _annotation_files(other)
    assert files.keys() == other_files.keys()
    for name in files:
        if name != '../meta.json':  # meta.json differs by its seed only
            assert files[name] != other_files[name], name
    video = 'videos/b/train/b_train_00003.mp4'
    frames = _read_video(osp.join(small_root, video))
    np.testing.assert_array_equal(frames, _read_video(osp.join(again, video)))
    assert np.abs(frames.astype(int) - _read_video(osp.join(other, video))).mean() > 5
    image = 'images/val/val_00002.png'
    np.testing.assert_array_equal(_read_image(osp.join(small_root, image)),
                                  _read_image(osp.join(again, image)))


def test_formats_load_in_mmaction_and_mmpretrain(small_root):
    """Annotation files load with the stock dataset classes; videos decode as promised."""
    from mmaction.datasets import VideoDataset
    from mmengine.dataset import BaseDataset
    from mmpretrain.datasets import MultiLabelDataset

    size, num_frames = SMALL['size'], SMALL['num_frames']
    meta = _load(small_root, 'meta.json')
    for key, actions in SETS.items():
        for split, per_class in (('train', SMALL['videos_per_class']),
                                 ('val', SMALL['val_videos_per_class'])):
            ann_file = osp.join(small_root, f'annotations/actions_{key}_{split}.txt')
            ds = VideoDataset(ann_file=ann_file, data_prefix=dict(video=small_root), pipeline=[])
            assert len(ds) == per_class * len(actions) == meta['counts']['videos'][f'{key}_{split}']
            privacy = BaseDataset(ann_file=f'annotations/privacy_videos_{key}_{split}.json',
                                  data_root=small_root, data_prefix=dict(filename=''),
                                  pipeline=[])
            assert len(privacy) == len(ds)
            assert list(privacy.metainfo['classes']) == list(PRIVACY_ATTRIBUTES)
            for i in range(len(ds)):
                info, pinfo = ds[i], privacy[i]
                assert info['filename'] == pinfo['filename']
                assert info['label'] == pinfo['label']
                frames = _read_video(info['filename'])
                assert frames.shape == (num_frames, size, size, 3)
                assert len(pinfo['person_boxes']) == num_frames
    for split in ('train', 'val'):
        ds = MultiLabelDataset(ann_file=f'annotations/privacy_images_{split}.json',
                               data_root=small_root, pipeline=[])
        assert len(ds) == meta['counts']['images'][split] > 0
        assert list(ds.metainfo['classes']) == list(PRIVACY_ATTRIBUTES)
        info = ds[0]
        assert info['gt_label'] == ds.get_cat_ids(0)
        assert _read_image(info['img_path']).shape == (size, size, 3)


def test_decoded_colours_close_to_render(tmp_path):
    """The mp4 round trip keeps colours (mp4v via cv2, read back by decord)."""
    spec = sample_clip_spec(np.random.default_rng(3), 'wave', [True] * len(PRIVACY_ATTRIBUTES))
    frames, _ = render_clip(spec, 16, 64)
    path = str(tmp_path / 'clip.mp4')
    synthetic.write_video(path, frames, fps=8)
    decoded = _read_video(path)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 10


def test_sets_disjoint_and_labels_valid(small_root):
    """Disjoint action sets and attribute groups; every attribute seen on and off."""
    assert len(ACTION_SET_A) == len(ACTION_SET_B) == 4
    assert not set(ACTION_SET_A) & set(ACTION_SET_B)
    assert not set(PERSON_ATTRIBUTES) & set(SCENE_ATTRIBUTES)
    assert PRIVACY_ATTRIBUTES == PERSON_ATTRIBUTES + SCENE_ATTRIBUTES
    n_attr = len(PRIVACY_ATTRIBUTES)
    present = np.zeros(n_attr, int)
    count = 0
    files: Dict[str, List[str]] = {}
    for key, actions in SETS.items():
        for split in ('train', 'val'):
            data = _load(small_root, f'annotations/privacy_videos_{key}_{split}.json')
            assert data['metainfo']['action_classes'] == list(actions)
            assert data['metainfo']['person_attributes'] == list(PERSON_ATTRIBUTES)
            assert data['metainfo']['scene_attributes'] == list(SCENE_ATTRIBUTES)
            labels = [e['label'] for e in data['data_list']]
            assert sorted(set(labels)) == list(range(len(actions)))  # balanced, all present
            for e in data['data_list']:
                assert e['filename'].startswith(f'videos/{key}/{split}/')
                assert e['gt_label'] == sorted(set(e['gt_label']))
                assert all(0 <= g < n_attr for g in e['gt_label'])
                if split == 'train':
                    present[e['gt_label']] += 1
                    count += 1
            files[f'{key}_{split}'] = [e['filename'] for e in data['data_list']]
    assert (present > 0).all() and (present < count).all(), present
    images = _load(small_root, 'annotations/privacy_images_train.json')['data_list']
    img_present = np.zeros(n_attr, int)
    for e in images:
        img_present[e['gt_label']] += 1
    assert (img_present > 0).all() and (img_present < len(images)).all(), img_present
    # set A and set B are different videos
    a_bytes = {open(osp.join(small_root, f), 'rb').read() for f in files['a_train']}
    b_bytes = {open(osp.join(small_root, f), 'rb').read() for f in files['b_train']}
    assert not a_bytes & b_bytes


@pytest.mark.parametrize('action', ACTION_SET_A + ACTION_SET_B)
def test_person_box_covers_exactly_the_person(action):
    """Box == tight bounds of the pixels that differ from a background-only render."""
    rng = np.random.default_rng(7)
    for size in (32, 64):
        spec = sample_clip_spec(rng, action, rng.random(len(PRIVACY_ATTRIBUTES)) < 0.5)
        frames, boxes = render_clip(spec, 12, size)
        background, no_boxes = render_clip(spec, 12, size, with_person=False)
        assert no_boxes is None
        for frame, bg, (x1, y1, x2, y2) in zip(frames, background, boxes):
            assert 0 <= x1 < x2 <= size and 0 <= y1 < y2 <= size
            changed = (frame != bg).any(-1)
            ys, xs = np.nonzero(changed)
            assert len(xs) > 0.02 * size * size  # a visible person
            assert x1 <= xs.min() and xs.max() < x2 and y1 <= ys.min() and ys.max() < y2
            assert xs.min() - x1 <= 1 and x2 - 1 - xs.max() <= 1  # tight up to AA fringe
            assert ys.min() - y1 <= 1 and y2 - 1 - ys.max() <= 1


def test_person_boxes_follow_the_motion_in_files(small_root):
    """In the decoded videos, the pixels that change between frames lie in the boxes."""
    size = SMALL['size']
    for key in SETS:
        data = _load(small_root, f'annotations/privacy_videos_{key}_train.json')['data_list']
        for e in data:
            frames = _read_video(osp.join(small_root, e['filename'])).astype(int)
            boxes = e['person_boxes']
            for box in boxes:
                assert all(isinstance(v, int) for v in box)
                assert 0 <= box[0] < box[2] <= size and 0 <= box[1] < box[3] <= size
            changed_in, changed = 0, 0
            for t in range(len(frames) - 1):
                big = np.abs(frames[t + 1] - frames[t]).max(-1) > 40
                inside = np.zeros_like(big)
                for x1, y1, x2, y2 in boxes[t:t + 2]:
                    inside[max(y1 - 1, 0):y2 + 1, max(x1 - 1, 0):x2 + 1] = True
                changed += big.sum()
                changed_in += (big & inside).sum()
            assert changed > 0
            assert changed_in >= 0.9 * changed, (e['filename'], changed_in, changed)
    for e in _load(small_root, 'annotations/privacy_images_train.json')['data_list']:
        x1, y1, x2, y2 = e['person_box']
        assert 0 <= x1 < x2 <= size and 0 <= y1 < y2 <= size


def _clips(root: str, key: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
    data = _load(root, f'annotations/privacy_videos_{key}_{split}.json')['data_list']
    clips = np.stack([_read_video(osp.join(root, e['filename'])) for e in data])
    return clips, np.array([e['label'] for e in data])


def _images(root: str, split: str) -> Tuple[torch.Tensor, torch.Tensor]:
    data = _load(root, f'annotations/privacy_images_{split}.json')['data_list']
    images = np.stack([_read_image(osp.join(root, e['img_path'])) for e in data])
    targets = torch.zeros(len(data), len(PRIVACY_ATTRIBUTES))
    for i, e in enumerate(data):
        targets[i, e['gt_label']] = 1
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255, targets


def test_actions_and_attributes_are_learnable(tmp_path):
    """Tiny models learn actions from frame differences and attributes from one frame."""
    root = str(tmp_path / 'learn')
    _generate(root, seed=0, videos_per_class=12, val_videos_per_class=6, size=32)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threading costs more than it gives
    try:
        # actions: linear model on where the pixels move, frame by frame (motion only)
        for key in SETS:
            feats = []
            for split in ('train', 'val'):
                clips, labels = _clips(root, key, split)
                gray = torch.from_numpy(clips).float().mean(-1) / 255
                energy = F.avg_pool2d((gray[:, 1:] - gray[:, :-1]).abs(), 4).flatten(1)
                feats.append((energy, torch.from_numpy(labels)))
            (x_tr, y_tr), (x_va, y_va) = feats
            mean, std = x_tr.mean(0), x_tr.std(0) + 1e-3
            model = torch.nn.Linear(x_tr.shape[1], len(SETS[key]))
            optim = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
            for _ in range(300):
                optim.zero_grad()
                F.cross_entropy(model((x_tr - mean) / std), y_tr).backward()
                optim.step()
            with torch.no_grad():
                acc = (model((x_va - mean) / std).argmax(1) == y_va).float().mean().item()
            assert acc >= 0.7, (key, acc)
        # privacy attributes: small CNN on single frames of the image set
        x_tr, t_tr = _images(root, 'train')
        x_va, t_va = _images(root, 'val')
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(32 * 8 * 8, len(PRIVACY_ATTRIBUTES)))
        optim = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
        for _ in range(40):
            for idx in torch.randperm(len(x_tr)).split(32):
                optim.zero_grad()
                F.binary_cross_entropy_with_logits(net(x_tr[idx]), t_tr[idx]).backward()
                optim.step()
        with torch.no_grad():
            per_attr = ((net(x_va) > 0).float() == t_va).float().mean(0)
    finally:
        torch.set_num_threads(threads)
    assert per_attr.mean().item() >= 0.8, per_attr
    assert per_attr.min().item() >= 0.65, per_attr


def test_idempotent_atomic_and_overwrite(tmp_path, monkeypatch):
    """Same parameters reuse the dataset; overwrite or new parameters regenerate it."""
    root = str(tmp_path / 'data')
    params = dict(videos_per_class=1, val_videos_per_class=1, num_frames=4, size=16)
    watched = ['meta.json', 'annotations/actions_a_train.txt', 'videos/a/train/a_train_00000.mp4']

    def stamps() -> List[Tuple[int, int]]:
        return [(os.stat(osp.join(root, f)).st_mtime_ns, os.stat(osp.join(root, f)).st_ino)
                for f in watched]

    first = _generate(root, **params)
    assert first['generated'] and first['root'] == root
    before = stamps()
    second = _generate(root, **params)
    assert not second['generated']
    assert stamps() == before
    assert second['counts'] == first['counts']
    third = _generate(root, overwrite=True, **params)
    assert third['generated']
    after = stamps()
    assert all(a != b for a, b in zip(after, before))
    assert _generate(root, seed=5, **params)['generated']  # new parameters regenerate
    assert _load(root, 'meta.json')['params']['seed'] == 5
    assert os.listdir(tmp_path) == ['data']  # no temporary directories left behind

    # a failure half-way leaves the previous complete dataset in place
    def broken(*args, **kwargs):
        raise RuntimeError('disk full')

    monkeypatch.setattr(synthetic, 'write_video', broken)
    with pytest.raises(RuntimeError, match='disk full'):
        _generate(root, seed=6, **params)
    assert _load(root, 'meta.json')['params']['seed'] == 5
    assert os.listdir(tmp_path) == ['data']
    with pytest.raises(RuntimeError, match='disk full'):
        _generate(str(tmp_path / 'fresh'), **params)
    assert os.listdir(tmp_path) == ['data']

    # a directory that is not a synthetic dataset is never replaced
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'keep.txt').write_text('mine')
    with pytest.raises(FileExistsError):
        _generate(str(foreign), **params)
    assert (foreign / 'keep.txt').read_text() == 'mine'
