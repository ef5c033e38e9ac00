"""ActionPrivacyPairDataset (cross-dataset protocol, Sec. 4.2) on a tiny synthetic dataset:
lengths, deterministic pairing, labels, RGB images, collate + preprocessor shapes, errors,
and the SSL head's two-view path."""
import contextlib
import io
import json
import os.path as osp
from collections import Counter

# cv2 before decord: decord's bundled zlib would break cv2's PNG reading otherwise.
import cv2  # noqa: F401
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from PIL import Image

from spact_mm.datasets import ActionPrivacyPairDataset, EpochPairingSampler, pair_index
from spact_mm.datasets.synthetic import PRIVACY_ATTRIBUTES, generate_synthetic_dataset
from spact_mm.registry import DATASETS, MODELS
from spact_mm.utils.compat import get_gt_label

PERSON = ['skin_dark', 'shirt_red', 'hat', 'trousers_dark']


@pytest.fixture(scope='module')
def root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('synthetic_pair'))
    with contextlib.redirect_stdout(io.StringIO()):
        generate_synthetic_dataset(root, seed=0, videos_per_class=2, val_videos_per_class=1,
                                   num_frames=8, size=32)
    return root


def _action(root: str) -> dict:
    return dict(
        type='RobustVideoDataset', ann_file=f'{root}/annotations/actions_a_train.txt',
        data_prefix=dict(video=root),
        pipeline=[dict(type='DecordInit'),
                  dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
                  dict(type='DecordDecode'),
                  dict(type='Resize', scale=(32, 32), keep_ratio=False),
                  dict(type='FormatShape', input_format='NCTHW'),
                  dict(type='PackActionInputs')])


def _privacy(root: str, loader: dict = None, size: int = 32, extra: tuple = (), **kw) -> dict:
    loader = loader or dict(type='LoadPrivacyImage', channel_order='rgb')
    return dict(type='MultiLabelSubsetDataset', data_root=root,
                ann_file='annotations/privacy_images_train.json', attributes=PERSON,
                pipeline=[loader, dict(type='mmpretrain.Resize', scale=(size, size)), *extra,
                          dict(type='mmpretrain.PackInputs')], **kw)


def _pair(root: str, **kw) -> ActionPrivacyPairDataset:
    privacy_kw = kw.pop('privacy_kw', {})
    return DATASETS.build(dict(type='ActionPrivacyPairDataset', action=_action(root),
                               privacy=_privacy(root, **privacy_kw), **kw))


def test_pair_index_cycles_and_epochs():
    # privacy set larger than the action set: distinct images within an epoch,
    # a new subset each epoch, every image used over enough epochs
    big = [[pair_index(i, e, 5, 12, seed=3) for i in range(5)] for e in range(20)]
    assert all(len(set(ep)) == 5 for ep in big)
    assert big[0] != big[1]
    assert set().union(*big) == set(range(12))
    # smaller privacy set: cycled, each image 2 or 3 times in an 11-sample epoch
    counts = Counter(pair_index(i, 0, 11, 4, seed=3) for i in range(11))
    assert set(counts) == set(range(4)) and set(counts.values()) <= {2, 3}
    # pure function of (seed, epoch, index)
    assert [pair_index(i, 2, 11, 4, seed=3) for i in range(11)] == \
        [pair_index(i, 2, 11, 4, seed=3) for i in range(11)]
    assert [pair_index(i, 0, 11, 4, seed=3) for i in range(11)] != \
        [pair_index(i, 0, 11, 4, seed=4) for i in range(11)]
    with pytest.raises(IndexError):
        pair_index(11, 0, 11, 4)


def test_length_pairing_label_and_rgb_image(root):
    ds = _pair(root, seed=1)
    with open(f'{root}/annotations/actions_a_train.txt') as f:
        actions = [int(line.split()[1]) for line in f if line.strip()]
    assert len(ds) == len(actions) == 8
    with open(f'{root}/annotations/privacy_images_train.json') as f:
        images = json.load(f)['data_list']
    assert len(ds.privacy) == len(images) == 32
    again, other = _pair(root, seed=1), _pair(root, seed=2)
    n = len(ds)
    assert [ds.privacy_index(i) for i in range(3 * n)] == \
        [again.privacy_index(i) for i in range(3 * n)]
    assert [ds.privacy_index(i) for i in range(n)] != [other.privacy_index(i) for i in range(n)]
    # index e*n + i is sample i in epoch e: same clip, another image
    assert [ds.privacy_index(i) for i in range(n)] != \
        [ds.privacy_index(n + i) for i in range(n)]
    for idx in (0, 5, n + 5):
        out = ds[idx]
        j = ds.privacy_index(idx)
        assert out['inputs'].shape == (1, 3, 4, 32, 32)
        assert int(get_gt_label(out['data_samples'])) == actions[idx % n]
        aux = out['aux_inputs']
        assert aux.dtype == torch.uint8 and aux.shape == (1, 3, 32, 32)
        # the image, read independently with PIL, in RGB order
        item = images[j]
        ref = np.asarray(Image.open(osp.join(root, item['img_path'])).convert('RGB'))
        torch.testing.assert_close(aux[0], torch.from_numpy(ref).permute(2, 0, 1))
        # multi-hot over the person attributes, from the annotation file
        names = {PRIVACY_ATTRIBUTES[k] for k in item['gt_label']}
        expected = torch.tensor([float(a in names) for a in PERSON])
        torch.testing.assert_close(out['data_samples'].aux_privacy_label, expected)
        assert out['data_samples'].metainfo['aux_img_path'].endswith(item['img_path'])
        np.testing.assert_array_equal(ds.get_data_info(idx)['aux_privacy_label'],
                                      expected.numpy())
    torch.testing.assert_close(ds[n + 5]['aux_inputs'], again[n + 5]['aux_inputs'])


def test_small_privacy_set_is_cycled(root):
    ds = _pair(root, privacy_kw=dict(indices=3))
    assert len(ds.privacy) == 3 and len(ds) == 8
    counts = Counter(ds.privacy_index(i) for i in range(len(ds)))
    assert set(counts) == {0, 1, 2} and sorted(counts.values()) == [2, 3, 3]


def test_sampler_encodes_the_epoch(root):
    ds = _pair(root)
    sampler = EpochPairingSampler(ds, shuffle=True, seed=0)
    first = list(sampler)
    sampler.set_epoch(3)
    later = list(sampler)
    assert sorted(first) == list(range(8))
    assert sorted(later) == list(range(24, 32))


@pytest.mark.parametrize('views', [1, 2])
def test_collate_and_preprocessor_shapes(root, views):
    ds = _pair(root, views=views)
    batch = pseudo_collate([ds[i] for i in range(3)])
    assert isinstance(batch['aux_inputs'], list) and len(batch['aux_inputs']) == 3
    assert all(a.shape == (views, 3, 32, 32) and a.dtype == torch.uint8
               for a in batch['aux_inputs'])
    if views == 2:  # no random augmentation here: both views are the same image
        torch.testing.assert_close(batch['aux_inputs'][0][0], batch['aux_inputs'][0][1])
    pre = MODELS.build(dict(
        type='AnonymizerDataPreprocessor',
        anonymizer=dict(type='UNetAnonymizer', base_channels=4, num_stages=2),
        preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW',
                          mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])))
    out = pre(batch, True)
    assert out['inputs'].shape == (3, 1, 3, 4, 32, 32)
    assert out['aux_inputs'].shape == (3, views, 3, 32, 32)
    assert out['aux_inputs'].dtype == torch.float32
    assert all('aux_privacy_label' in s for s in out['data_samples'])


def test_ssl_head_takes_two_views_from_the_pair_dataset(root):
    """views=2 batch -> AnonymizerDataPreprocessor -> SPActRecognizer.loss with SSLPrivacyHead:
    f_B sees the two anonymized views of each privacy image (16x16 here, unlike the 32x32
    clips), not frames of the clips."""
    from conftest import tiny_model_cfg

    flip = dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal')
    ds = _pair(root, views=2, privacy_kw=dict(size=16, extra=(flip, )))
    model = MODELS.build(tiny_model_cfg())
    batch = pseudo_collate([ds[i] for i in range(4)])
    data = model.data_preprocessor(batch, True)
    aux = data['aux_inputs']
    assert aux.shape == (4, 2, 3, 16, 16)
    seen = []
    handle = model.privacy_head.backbone.register_forward_hook(
        lambda mod, args, out: seen.append(args[0].detach()))
    losses = model.loss(data['inputs'], data['data_samples'], aux_inputs=aux)
    handle.remove()
    assert len(seen) == 1
    torch.testing.assert_close(seen[0], torch.cat([aux[:, 0], aux[:, 1]]).detach())
    assert torch.isfinite(losses['loss_ssl']) and torch.isfinite(losses['loss_cls'])


def test_clear_errors(root):
    with pytest.raises(ValueError, match='views'):
        _pair(root, views=3)
    with pytest.raises(ValueError, match='BGR'):
        _pair(root, privacy_kw=dict(loader=dict(type='LoadPrivacyImage')))
    with pytest.raises(ValueError, match='classes'):  # an action set has no privacy classes
        DATASETS.build(dict(type='ActionPrivacyPairDataset', action=_action(root),
                            privacy=_action(root)))
    float_images = _pair(root, privacy_kw=dict(loader=dict(
        type='LoadPrivacyImage', channel_order='rgb', to_float32=True)))
    with pytest.raises(ValueError, match='uint8 image tensor'):
        float_images[0]
    no_pack = _pair(root)
    no_pack.privacy.pipeline.transforms.pop()  # drop PackInputs
    with pytest.raises(TypeError, match='PackInputs'):
        no_pack[0]
