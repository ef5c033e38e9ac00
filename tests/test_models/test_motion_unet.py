"""MotionUNetAnonymizer: the UNet on [x_t, x_t - x_{t-1}], checked against a float64 reference."""
import numpy as np
import pytest
import torch

from spact_mm.models.anonymizers import MotionUNetAnonymizer, anonymize_clips, anonymize_images
from spact_mm.models.anonymizers.clip_utils import is_clip_level


def _model() -> MotionUNetAnonymizer:
    torch.manual_seed(0)
    return MotionUNetAnonymizer(base_channels=4, num_stages=2, norm_cfg=None).double().eval()


def _reference_inputs(clips: np.ndarray) -> np.ndarray:
    """[x_t, D_t] per frame, straight from the definition, D_0 = D_1 ('repeat')."""
    n, c, t, h, w = clips.shape
    out = np.zeros((n, t, 2 * c, h, w))
    for i in range(n):
        for k in range(t):
            km = max(k, 1)
            out[i, k, :c] = clips[i, :, k]
            out[i, k, c:] = clips[i, :, km] - clips[i, :, km - 1]
    return out.reshape(n * t, 2 * c, h, w)


def test_forward_equals_unet_on_frame_and_difference():
    model = _model()
    clips = torch.rand(2, 3, 5, 8, 8, dtype=torch.float64)
    out = model(clips)
    assert out.shape == clips.shape
    ref_in = torch.from_numpy(_reference_inputs(clips.numpy()))
    ref = model._unet(ref_in).reshape(2, 5, 3, 8, 8).permute(0, 2, 1, 3, 4)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)


def test_frame_depends_only_on_itself_and_its_predecessor():
    model = _model()
    clips = torch.rand(1, 3, 6, 8, 8, dtype=torch.float64)
    changed = clips.clone()
    changed[:, :, 4] = torch.rand(1, 3, 8, 8, dtype=torch.float64)  # frame 4 only
    a, b = model(clips), model(changed)
    torch.testing.assert_close(a[:, :, :4], b[:, :, :4])  # frames before 4 unchanged
    assert not torch.allclose(a[:, :, 4], b[:, :, 4])
    assert not torch.allclose(a[:, :, 5], b[:, :, 5])  # D_5 = x_5 - x_4 changed


def test_static_clip_sees_zero_motion_and_stills_are_one_frame_clips():
    model = _model()
    frame = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    static = frame.unsqueeze(2).repeat(1, 1, 4, 1, 1)
    zero_motion = model._unet(torch.cat([frame, torch.zeros_like(frame)], dim=1))
    out = model(static)
    for k in range(4):
        torch.testing.assert_close(out[:, :, k], zero_motion)
    assert is_clip_level(model)
    torch.testing.assert_close(anonymize_images(model, frame), zero_motion)
    torch.testing.assert_close(anonymize_clips(model, static), out)


def test_bad_input_and_options():
    model = _model()
    with pytest.raises(ValueError, match='clips'):
        model(torch.rand(2, 3, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match='divisible'):
        model(torch.rand(1, 3, 2, 7, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match='first_frame'):
        MotionUNetAnonymizer(first_frame='bogus')
    assert model.in_channels == 3 and model.encoders[0][0].conv.in_channels == 6
    assert model.out_conv.out_channels == 3
