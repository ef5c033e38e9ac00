"""The face-centric synthetic benchmark: deterministic, identity only inside the face box."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from spact_mm.datasets.synthetic.faces import (
    FACE_ACTIONS,
    generate_face_dataset,
    render_face_clip,
    sample_face_clip,
    sample_face_identities,
)

CFG = 'configs/face/face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py'


@pytest.fixture(scope='module')
def faces_root(tmp_path_factory):
    import cv2  # noqa: F401  (before decord)

    root = tmp_path_factory.mktemp('faces')
    generate_face_dataset(str(root), seed=1, clips_per_identity_action=1,
                          val_clips_per_identity_action=1, num_frames=12, size=96,
                          num_identities=4)
    return root


def test_identity_lives_only_inside_the_face_box():
    ids = sample_face_identities(0)
    for action in FACE_ACTIONS:
        clip = sample_face_clip(np.random.default_rng(5), ids[0], action)
        a, boxes_a = render_face_clip(ids[0], clip, 6, 96)
        b, boxes_b = render_face_clip(ids[3], clip, 6, 96)  # same clip, another person
        for t in range(6):
            inside = np.zeros((96, 96), bool)
            for x1, y1, x2, y2 in boxes_a[t] + boxes_b[t]:
                inside[int(y1):int(y2), int(x1):int(x2)] = True
            assert np.array_equal(a[t][~inside], b[t][~inside])
            assert not np.array_equal(a[t][inside], b[t][inside])
            assert min(boxes_a[t][0][2] - boxes_a[t][0][0],
                       boxes_a[t][0][3] - boxes_a[t][0][1]) >= 16  # faces span >= 16 px


def test_generation_is_deterministic_and_annotated(faces_root, tmp_path):
    again = tmp_path / 'again'
    generate_face_dataset(str(again), seed=1, clips_per_identity_action=1,
                          val_clips_per_identity_action=1, num_frames=12, size=96,
                          num_identities=4)
    for split in ('train', 'val'):
        name = f'annotations/face_videos_{split}.json'
        one, two = (faces_root / name).read_text(), (again / name).read_text()
        assert one == two
        ann = json.loads(one)
        assert len(ann['data_list']) == 4 * len(FACE_ACTIONS)
        entry = ann['data_list'][0]
        assert {'filename', 'label', 'gt_label', 'identity', 'face_boxes'} <= set(entry)
        assert len(entry['face_boxes']) == 12


TEMPLATE_CFG = ('configs/face/'
                'face-anonymizer-template_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py')


@pytest.mark.parametrize('config', [CFG, TEMPLATE_CFG])
def test_face_config_trains_end_to_end_through_the_runner(faces_root, tmp_path, config):
    from mmengine.runner import Runner

    cfg = Config.fromfile(config)
    for key in ('train_dataloader', ):
        ds = cfg[key].dataset
        ds.ann_file = ds.ann_file.replace('data/synthetic-faces', str(faces_root))
        ds.data_prefix = dict(video=str(faces_root))
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.model.privacy_head.num_identities = 4
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=3, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 100
    cfg.custom_hooks = []
    runner = Runner.from_cfg(cfg)
    m = runner.model.data_preprocessor.anonymizer  # M, and the template T if any
    before = {k: v.clone() for k, v in m.state_dict().items()}
    runner.train()
    wrapper = runner.optim_wrapper
    assert wrapper.minimax_iter == 3
    changed = any(not torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert changed  # step 1 (iteration 0) updated M
    if config == TEMPLATE_CFG:  # step 1 trains the template M reads
        assert not torch.equal(before['template'], m.template.detach())


def test_linear_identity_attack_sees_raw_faces_not_masked_ones(faces_root):
    from spact_mm.evaluation.face_attacks import (
        anonymize_split,
        linear_identity_attacks,
        load_face_split,
    )
    from spact_mm.models.anonymizers.face import FaceObfuscationAnonymizer, clip_box

    train = load_face_split(str(faces_root), 'train', num_frames=4, frame_interval=3)
    val = load_face_split(str(faces_root), 'val', num_frames=4, frame_interval=3)
    raw_tr, raw_val = anonymize_split(None, train), anonymize_split(None, val)
    mask = FaceObfuscationAnonymizer(mode='mask', detector=None)
    m_tr, m_val = anonymize_split(mask, train), anonymize_split(mask, val)
    outside = torch.ones_like(m_val, dtype=torch.bool)
    for c, clip_boxes in enumerate(val.boxes):
        for t, fb in enumerate(clip_boxes):
            for box in fb:
                x1, y1, x2, y2 = clip_box(box, 64, 64)
                outside[c, :, t, y1:y2, x1:x2] = False
    assert torch.equal(m_val[outside], raw_val[outside])
    raw = linear_identity_attacks(raw_tr, raw_val, raw_tr, train, val, 4)
    masked = linear_identity_attacks(m_tr, m_val, raw_tr, train, val, 4)
    assert raw['ident_top1'] > masked['ident_top1'] + 30
    assert raw['verif_eer'] < masked['verif_eer']
