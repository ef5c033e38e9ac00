"""PrivacyVideoDataset, MultiLabelSubsetDataset and the privacy transforms."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from spact_mm.datasets import MultiLabelSubsetDataset, PrivacyVideoDataset
from spact_mm.datasets.synthetic import PRIVACY_ATTRIBUTES, generate_synthetic_dataset
from spact_mm.utils.compat import get_gt_label

SCENE = ['outdoor', 'tree', 'car', 'lamp']


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=2, val_videos_per_class=1,
                               size=32)
    return root


def _json(root, name):
    import json
    with open(f'{root}/annotations/{name}') as f:
        return json.load(f)


def test_video_dataset_privacy_labels_and_subset(root):
    ann = _json(root, 'privacy_videos_a_train.json')['data_list']
    full = PrivacyVideoDataset(f'{root}/annotations/privacy_videos_a_train.json', pipeline=[],
                               data_prefix=dict(video=root))
    sub = PrivacyVideoDataset(f'{root}/annotations/privacy_videos_a_train.json', pipeline=[],
                              data_prefix=dict(video=root), attributes=SCENE[::-1])
    assert full.metainfo['classes'] == tuple(PRIVACY_ATTRIBUTES)
    assert sub.metainfo['classes'] == tuple(SCENE[::-1])
    for i, item in enumerate(ann):
        a, b = full.get_data_info(i), sub.get_data_info(i)
        assert a['label'] == item['label'] and a['filename'] == f"{root}/{item['filename']}"
        ref = np.zeros(8, np.float32)
        ref[item['gt_label']] = 1
        np.testing.assert_array_equal(a['privacy_label'], ref)
        # new index j is attribute SCENE[::-1][j]
        ref_sub = np.array([ref[PRIVACY_ATTRIBUTES.index(n)] for n in SCENE[::-1]], np.float32)
        np.testing.assert_array_equal(b['privacy_label'], ref_sub)
        assert b['gt_label'] == list(np.flatnonzero(ref_sub))
    with pytest.raises(KeyError):
        PrivacyVideoDataset(f'{root}/annotations/privacy_videos_a_train.json', pipeline=[],
                            attributes=['nose'])


def test_image_subset_dataset(root):
    ann = _json(root, 'privacy_images_val.json')['data_list']
    ds = MultiLabelSubsetDataset(attributes=SCENE, data_root=root,
                                 ann_file='annotations/privacy_images_val.json', pipeline=[])
    assert ds.metainfo['classes'] == tuple(SCENE)
    for i, item in enumerate(ann):
        ref = [SCENE.index(PRIVACY_ATTRIBUTES[k]) for k in item['gt_label']
               if PRIVACY_ATTRIBUTES[k] in SCENE]
        assert ds.get_data_info(i)['gt_label'] == sorted(ref)


def test_pack_privacy_and_oracle_obfuscation(root):
    import cv2  # noqa: F401  (before decord)

    ds = PrivacyVideoDataset(
        f'{root}/annotations/privacy_videos_a_val.json', data_prefix=dict(video=root),
        attributes=['hat', 'lamp'], test_mode=True,
        pipeline=[dict(type='DecordInit'),
                  dict(type='SampleFrames', clip_len=4, frame_interval=3, num_clips=1,
                       test_mode=True),
                  dict(type='DecordDecode'),
                  dict(type='ObfuscatePersons', mode='blacken'),
                  dict(type='FormatShape', input_format='NCTHW'),
                  dict(type='PackActionPrivacyInputs')])
    info = ds.get_data_info(0)
    out = ds[0]
    sample = out['data_samples']
    torch.testing.assert_close(sample.privacy_label, torch.as_tensor(info['privacy_label']))
    assert int(get_gt_label(sample)) == info['label']
    # every frame's own ground-truth box is black, and the rest of the frame is not
    raw = Compose([dict(type='DecordInit'),
                   dict(type='SampleFrames', clip_len=4, frame_interval=3, num_clips=1,
                        test_mode=True),
                   dict(type='DecordDecode')])(dict(info))
    clip = out['inputs'][0].permute(1, 2, 3, 0).numpy()  # (T, H, W, C)
    for t, i in enumerate(raw['frame_inds']):
        x1, y1, x2, y2 = info['person_boxes'][i]
        assert (clip[t, y1:y2, x1:x2] == 0).all()
        mask = np.ones(clip.shape[1:3], bool)
        mask[y1:y2, x1:x2] = False
        np.testing.assert_array_equal(clip[t][mask], raw['imgs'][t][mask])


def test_clip_to_image_frames_for_the_attacker(root):
    import cv2  # noqa: F401

    ds = PrivacyVideoDataset(
        f'{root}/annotations/privacy_videos_a_train.json', data_prefix=dict(video=root),
        attributes=SCENE,
        pipeline=[dict(type='DecordInit'),
                  dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1),
                  dict(type='DecordDecode'), dict(type='ClipToImage'),
                  dict(type='mmpretrain.PackInputs')])
    out = ds[1]
    assert out['inputs'].shape == (3, 32, 32)
    assert out['data_samples'].gt_label.tolist() == ds.get_data_info(1)['gt_label']


def test_oracle_obfuscation_refuses_samples_without_boxes():
    from spact_mm.datasets.transforms import ObfuscatePersons

    img = np.full((8, 8, 3), 200, np.uint8)
    with pytest.raises(KeyError, match='vispr/2017_1.jpg'):
        ObfuscatePersons('blacken')(dict(img=img, img_path='vispr/2017_1.jpg'))
    out = ObfuscatePersons('blacken', allow_missing=True)(dict(img=img.copy()))
    np.testing.assert_array_equal(out['img'], img)
