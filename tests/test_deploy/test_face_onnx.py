"""ONNX export of the learned face anonymizer: M alone, run inside the Python face pipeline.

Skipped without the optional ``deploy`` extra (onnx, onnxscript, onnxruntime).
"""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from spact_mm.apis.backends import (
    FACE_MODIFIER_PART,
    OnnxFaceModifier,
    OnnxRuntimeAnonymizer,
    build_anonymizer_runner,
    check_onnx,
    export_onnx,
)
from spact_mm.models.anonymizers import FaceAnonymizer, HaarFaceDetector
from spact_mm.models.anonymizers.face import clip_box

for _name in ('onnx', 'onnxscript', 'onnxruntime'):
    pytest.importorskip(_name)

FACES = Path(__file__).resolve().parents[1] / 'data' / 'faces' / 'astronaut_pan'


def learned_face(seed: int = 0) -> FaceAnonymizer:
    """A face f_A (Haar boxes) whose M is far from the identity."""
    torch.manual_seed(seed)
    f_a = FaceAnonymizer(modifier=dict(type='FaceModifier', channels=4, num_blocks=1),
                         crop_size=16).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in f_a.modifier.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return f_a


def real_frames() -> np.ndarray:
    paths = sorted(FACES.glob('frame_*.png'))[:4]
    assert paths, f'missing test data {FACES}'
    return np.stack([cv2.imread(str(p))[..., ::-1] for p in paths])


def test_face_export_holds_M_alone_and_matches_it():
    f_a = learned_face()
    model = export_onnx(f_a)
    ort_m = OnnxRuntimeAnonymizer(model, allow_face_modifier=True)
    assert ort_m.meta['part'] == FACE_MODIFIER_PART and ort_m.meta['crop_size'] == '16'
    diffs = check_onnx(f_a, model, frames=real_frames())
    assert set(diffs) == {'random crops 16x16', 'frames as crops 16x16'}
    assert max(diffs.values()) < 1e-5
    # the dynamic batch: any number of crops
    crops = torch.rand(7, 3, 16, 16)
    with torch.no_grad():
        ref = f_a.modifier(crops)
    assert np.abs(ort_m.run_numpy(crops.numpy()) - ref.numpy()).max() < 1e-5
    # alone, the model is not an f_A: a clear error
    with pytest.raises(ValueError, match='only the modifier M of a face f_A'):
        OnnxRuntimeAnonymizer(model)


@pytest.mark.parametrize('source', ['in memory', 'file'])
def test_face_pipeline_with_M_in_onnxruntime_matches_torch(source, tmp_path):
    f_a = learned_face()
    onnx_model = None  # exported in memory by build_anonymizer_runner
    if source == 'file':
        onnx_model = str(tmp_path / 'm.onnx')
        export_onnx(f_a, out=onnx_model)
    torch_runner = build_anonymizer_runner(f_a, 'torch')
    ort_runner = build_anonymizer_runner(f_a, 'onnxruntime', onnx_model=onnx_model)
    assert ort_runner.backend == 'onnxruntime'
    assert isinstance(ort_runner.module.modifier, OnnxFaceModifier)
    clip = real_frames()
    x = torch.from_numpy(clip.copy()).permute(0, 3, 1, 2).float() / 255.
    ref = torch_runner.anonymize_unit(x)
    got = ort_runner.anonymize_unit(x)
    assert (got - ref).abs().max() < 1e-5
    # every Haar face is changed; every pixel outside the boxes the pipeline used is not
    used = ort_runner.module.last_boxes
    keep = np.ones((x.shape[0], *x.shape[2:]), bool)
    for t, boxes in enumerate(used):
        for box in boxes:
            c = clip_box(box, *x.shape[2:])
            if c is not None:
                keep[t, c[1]:c[3], c[0]:c[2]] = False
    keep_t = torch.from_numpy(keep)[:, None].expand_as(x)
    assert torch.equal(got[keep_t], x[keep_t])
    haar = HaarFaceDetector()
    for t, frame in enumerate(clip):
        dets = haar(frame)
        assert dets
        for d in dets:
            c = clip_box(d, *clip.shape[1:3])
            change = got[t, :, c[1]:c[3], c[0]:c[2]] - x[t, :, c[1]:c[3], c[0]:c[2]]
            assert change.abs().mean() > 1e-3


def test_a_whole_frame_model_is_refused_as_a_face_modifier(tmp_path):
    from spact_mm.models.anonymizers import UNetAnonymizer

    unet_model = export_onnx(UNetAnonymizer(base_channels=4, num_stages=2).eval())
    with pytest.raises(ValueError, match='not the face modifier'):
        build_anonymizer_runner(learned_face(), 'onnxruntime', onnx_model=unet_model)
