"""The privacy audit hands a face f_A the annotated face boxes of every decoded frame.

A face f_A (``FaceAnonymizer``, the ``face-*`` baselines) rewrites the boxes it is
given and nothing else; without boxes it runs OpenCV's Haar cascade, which finds few
of the drawn synthetic faces. On a tiny face benchmark decoded through the face
protocol config, the audited clips must therefore differ from the raw ones in every
face box and nowhere else; data without face boxes must be refused, unless the
detector is asked for.
"""
import json

import numpy as np
import pytest
import torch
import torch.nn as nn

from spact_mm.evaluation import attackers as atk
from spact_mm.evaluation import privacy_audit as pa
from spact_mm.models.anonymizers.face import clip_box

FACES = 'configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-faces.py'
SAME = 'configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py'


@pytest.fixture(scope='module')
def faces_root(tmp_path_factory):
    import cv2  # noqa: F401  (before decord)

    from spact_mm.datasets.synthetic.faces import generate_face_dataset

    root = tmp_path_factory.mktemp('faces')
    generate_face_dataset(str(root), seed=2, clips_per_identity_action=1,
                          val_clips_per_identity_action=1, num_identities=2)
    return str(root)


@pytest.fixture(scope='module')
def face_data(faces_root):
    cfg = pa.load_config(FACES, faces_root)
    return pa.load_protocol_data(cfg, None, progress=False)


def _inside(split: pa.Split) -> np.ndarray:
    """(N, T, H, W) mask of the pixels inside the split's face boxes (as f_A rounds them)."""
    n, _, t, h, w = split.clips.shape
    mask = np.zeros((n, t, h, w), bool)
    for i in range(n):
        for j in range(t):
            for box in split.face_boxes[i][j]:
                x1, y1, x2, y2 = clip_box(box, h, w)
                mask[i, j, y1:y2, x1:x2] = True
    return mask


def tiny_settings() -> pa.AuditSettings:
    fs = atk.FitSettings(4, 8, 1e-3, 2)
    return pa.AuditSettings(frames_per_clip=2, frame=fs, mobilenet=fs, video=fs, action=fs,
                            inversion=fs, identity=fs, width=8)


def test_face_boxes_are_decoded_and_scaled_to_the_clip(face_data, faces_root):
    tr = face_data['privacy']['train']
    assert face_data['groups'] == {'person': [0, 1, 2, 3]}
    assert face_data['attributes'] == ['skin_dark', 'glasses', 'beard', 'long_hair']
    assert tr.boxes is None and tr.face_boxes is not None
    assert len(tr.face_boxes) == len(tr.clips) == 8
    assert all(len(fb) == tr.clips.shape[2] == 8 for fb in tr.face_boxes)
    with open(f'{faces_root}/annotations/face_videos_train.json') as f:
        entry = json.load(f)['data_list'][0]
    # frames 0, 2, 4, ... of the 96x96 video, decoded at 64x64
    for j, frame in enumerate(tr.face_boxes[0]):
        np.testing.assert_allclose(frame, np.asarray(entry['face_boxes'][2 * j]) * 64 / 96)


@pytest.mark.parametrize('method', ['face-mask', 'face-noise'])
def test_audited_clips_change_in_every_face_box_and_nowhere_else(face_data, method):
    f_a, oracle = pa.build_anonymizer(method)
    assert oracle is None and pa.takes_face_boxes(f_a)
    for split in (face_data['privacy']['val'], face_data['action']['train']):
        out = pa.anonymize_split(f_a, split)
        raw = split.clips.float() / 255.
        inside = torch.as_tensor(_inside(split))
        change = (out - raw).abs().amax(1)  # (N, T, H, W)
        assert torch.equal(change[~inside], torch.zeros_like(change[~inside]))
        # every face of every frame was rewritten (the Haar cascade finds few of them)
        per_frame = [(change[i, j][inside[i, j]] > 0).float().mean()
                     for i in range(len(split.clips)) for j in range(split.clips.shape[2])]
        assert min(per_frame) > 0.5, method


def test_other_anonymizers_never_see_the_boxes(face_data):
    from spact_mm.models.anonymizers.baselines import IdentityAnonymizer

    split = face_data['privacy']['val']
    out = pa.anonymize_split(IdentityAnonymizer(), split)  # forward(x): boxes= would fail
    assert torch.equal(out, split.clips.float() / 255.)


def test_face_anonymizer_without_face_boxes_is_refused():
    f_a, _ = pa.build_anonymizer('face-blur')
    split = pa.Split(torch.zeros(2, 3, 4, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match='no face_boxes annotations.*detector'):
        pa.anonymize_split(f_a, split)
    out = pa.anonymize_split(f_a, split, face_boxes='detector')  # the user asked for it
    assert out.shape == (2, 3, 4, 32, 32)
    with pytest.raises(ValueError, match='face_boxes must be one of'):
        pa.anonymize_split(f_a, split, face_boxes='oracle')


def test_audit_of_a_face_anonymizer_on_data_without_face_boxes_fails_early(tmp_path):
    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    root = tmp_path / 'syn'
    generate_synthetic_dataset(str(root), videos_per_class=1, val_videos_per_class=1,
                               num_frames=8, size=32)
    logs = []
    with pytest.raises(ValueError, match='face-mask is a face f_A.*--face-boxes detector'):
        pa.run_audit(SAME, 'face-mask', str(tmp_path / 'out'), data_root=str(root),
                     progress=False, settings=tiny_settings(), log=logs.append)
    assert not any('cMAP' in line for line in logs)  # no attacker was trained
    assert not (tmp_path / 'out').exists()


class RecordBoxes(nn.Module):
    takes_face_boxes = True

    def forward(self, x, boxes=None):
        self.seen = (tuple(x.shape[-2:]), boxes)
        return x


def test_working_size_scales_the_face_boxes():
    rec = RecordBoxes()
    wrapped = pa.WorkingSizeAnonymizer(rec, 32)
    assert pa.takes_face_boxes(wrapped)
    split = pa.Split(torch.zeros(1, 3, 2, 64, 96, dtype=torch.uint8),
                     face_boxes=[[[[12., 6., 30., 24.]], []]])
    pa.anonymize_split(wrapped, split)
    size, boxes = rec.seen
    assert size == (32, 48)
    np.testing.assert_allclose(boxes[0], [[6., 3., 15., 12.]])
    assert boxes[1] == []


def test_tiny_face_audit_end_to_end(face_data, tmp_path, faces_root):
    audit = pa.run_audit(FACES, 'face-mask', str(tmp_path / 'mask'), data_root=faces_root,
                         progress=False, data=face_data, settings=tiny_settings(),
                         log=lambda s: None)
    assert audit['face_boxes'] == 'gt'
    assert audit['reid_region'] == 'face box'
    assert set(audit['worst_case']) == {'person'}
    assert 'top1' in audit['action']
    raw = pa.run_audit(FACES, 'raw', str(tmp_path / 'raw'), data_root=faces_root,
                       progress=False, data=face_data, settings=tiny_settings(),
                       log=lambda s: None)
    assert 'face_boxes' not in raw  # not a face f_A
