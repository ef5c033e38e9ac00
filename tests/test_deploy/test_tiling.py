"""Tiled f_A inference (issue 17: bounded memory at full resolution).

The reference of every comparison is the untiled run of the same f_A; the
receptive margin is checked against the support of f_A's gradient, measured.
"""
import numpy as np
import pytest
import torch

from spact_mm.apis.backends import (
    AUTO_TILE,
    AUTO_TILE_CLIP,
    OnnxRuntimeAnonymizer,
    TorchAnonymizer,
    export_onnx,
    receptive_margin,
    run_tiled,
    tile_windows,
)
from spact_mm.apis.inference import anonymize_frames
from spact_mm.models.anonymizers import (
    DownsampleAnonymizer,
    MotionUNetAnonymizer,
    UNetAnonymizer,
)


def random_unet(stages: int = 3, cls=UNetAnonymizer, **kwargs) -> torch.nn.Module:
    """A UNet with random BatchNorm statistics (so that fusing them is not a no-op)."""
    torch.manual_seed(0)
    unet = cls(base_channels=4, num_stages=stages, **kwargs)
    for m in unet.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return unet.eval()


@pytest.mark.parametrize('length,tile,margin,divisor',
                         [(100, 24, 26, 4), (64, 64, 10, 2), (37, 5, 3, 1), (96, 40, 58, 8),
                          (16, 100, 26, 4)])
def test_tile_windows_cover_every_core_with_its_margin(length, tile, margin, divisor):
    windows = tile_windows(length, tile, margin, divisor)
    cores = np.zeros(length, int)
    sizes = {e - s for s, e, _, _ in windows}
    assert len(sizes) == 1  # one window size: one compiled / ONNX shape
    for s, e, a, b in windows:
        assert s % divisor == 0 and 0 <= s <= a < b <= e <= length
        cores[a:b] += 1
        # context of at least `margin` on each side, unless the frame border is there
        assert a - s >= margin or s == 0
        assert e - b >= margin or e == length
    assert (cores == 1).all()  # the cores partition the axis


def test_tile_windows_refuse_bad_input():
    with pytest.raises(ValueError, match='multiple'):
        tile_windows(30, 8, 4, 4)
    with pytest.raises(ValueError):
        tile_windows(32, 0, 4, 4)


def _measured_radius(stages: int, space_to_depth: int = 1) -> int:
    """How far one output pixel's gradient reaches into the input (LeakyReLU, no norm:
    no dead units hide a dependency), over the alignments of a pooling cell."""
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=2, num_stages=stages, norm_cfg=None,
                          act_cfg=dict(type='LeakyReLU'),
                          space_to_depth=space_to_depth).double().eval()
    size = unet.size_divisor * 24
    radius = 0
    for offset in range(unet.size_divisor):
        x = torch.rand(1, 3, size, size, dtype=torch.float64, requires_grad=True)
        c = size // 2 + offset
        unet(x)[0, :, c, c].sum().backward()
        support = (x.grad[0].abs().sum(0) > 0).nonzero()
        radius = max(radius, int((support - c).abs().max()))
    return radius


@pytest.mark.parametrize('stages,space_to_depth', [(1, 1), (2, 1), (3, 1), (4, 1), (2, 2),
                                                   (3, 4)])
def test_receptive_margin_bounds_the_measured_support(stages, space_to_depth):
    radius = _measured_radius(stages, space_to_depth)
    margin = receptive_margin(UNetAnonymizer(base_channels=2, num_stages=stages,
                                             space_to_depth=space_to_depth))
    assert radius <= margin
    assert radius >= margin - space_to_depth * 2**(stages - 1)  # and is not a loose bound


@pytest.mark.parametrize('stages,space_to_depth', [(2, 1), (3, 1), (2, 4)])
def test_tiled_equals_untiled(stages, space_to_depth):
    unet = random_unet(stages, space_to_depth=space_to_depth)
    div = unet.size_divisor
    margin = receptive_margin(unet)
    pad = 2 * -(-margin // div) * div  # frames wider than a window: the tiles are real
    x = torch.rand(2, 3, 10 * div + pad, 13 * div + pad,
                   generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref64 = unet.double()(x.double())
        tiled64 = run_tiled(unet, x.double(), 3 * div, margin, div)
        unet.float()
        ref = unet(x)
        tiled = run_tiled(unet, x, 3 * div, margin, div)
        short = run_tiled(unet, x, 3 * div, div, div)  # too little context
    for length in x.shape[-2:]:
        windows = tile_windows(length, 3 * div, margin, div)
        assert len(windows) > 2 and windows[0][1] - windows[0][0] < length
    assert torch.allclose(tiled64, ref64, atol=1e-12, rtol=0)
    assert (tiled - ref).abs().max() < 1e-5
    assert (short - ref).abs().max() > 1e-3  # the comparison can fail


def test_runner_tiles_frames_and_clips_with_the_untiled_result():
    unet = random_unet(3)
    frames = np.random.default_rng(0).integers(0, 256, (3, 45, 70, 3), dtype=np.uint8)
    whole, tiled = TorchAnonymizer(unet, tile=0), TorchAnonymizer(unet, tile=12)
    assert whole.tile_for((48, 72)) is None and tiled.tile_for((48, 72)) == 12
    x = torch.from_numpy(frames[:, :44, :68]).permute(0, 3, 1, 2).float() / 255.
    assert (tiled.anonymize_unit(x) - whole.anonymize_unit(x)).abs().max() < 1e-5
    out_whole = anonymize_frames(whole, frames).astype(int)
    out_tiled = anonymize_frames(tiled, frames).astype(int)
    assert np.abs(out_tiled - out_whole).max() <= 1  # uint8 rounding of a 1e-6 difference

    motion = random_unet(3, MotionUNetAnonymizer)
    clips = torch.rand(1, 3, 4, 40, 56, generator=torch.Generator().manual_seed(2))
    ref = TorchAnonymizer(motion, tile=0).anonymize_unit_clips(clips)
    got = TorchAnonymizer(motion, tile=16).anonymize_unit_clips(clips)
    assert got.shape == ref.shape and (got - ref).abs().max() < 1e-5


def test_automatic_tiling_only_for_large_frames_of_known_margin():
    runner = TorchAnonymizer(random_unet(3))
    assert runner.tile_for((1088, 1920)) == AUTO_TILE
    assert runner.tile_for((480, 640)) is None
    clip = TorchAnonymizer(random_unet(3, MotionUNetAnonymizer))  # smaller tiles: less memory
    assert clip.clip_level and clip.tile_for((1088, 1920)) == AUTO_TILE_CLIP < AUTO_TILE
    assert clip.tile_for((480, 640)) is None
    down = TorchAnonymizer(DownsampleAnonymizer(factor=4))
    assert down.tile_margin is None and down.tile_for((1088, 1920)) is None
    with pytest.raises(ValueError, match='receptive margin'):
        TorchAnonymizer(DownsampleAnonymizer(factor=4), tile=64)
    with pytest.raises(ValueError, match='>= 0'):
        TorchAnonymizer(random_unet(3), tile=-1)


def test_onnxruntime_runner_tiles_with_the_margin_from_the_export():
    for name in ('onnx', 'onnxscript', 'onnxruntime'):
        pytest.importorskip(name)
    unet = random_unet(3)
    model = export_onnx(unet)
    whole = OnnxRuntimeAnonymizer(model, num_threads=1, tile=0)
    tiled = OnnxRuntimeAnonymizer(model, num_threads=1, tile=16)
    assert tiled.tile_margin == receptive_margin(unet)
    x = torch.rand(2, 3, 48, 76, generator=torch.Generator().manual_seed(3))
    assert (tiled.anonymize_unit(x) - whole.anonymize_unit(x)).abs().max() < 1e-5
