"""The optional OpenVINO backend (issue 17): the ONNX export of f_A run by OpenVINO
matches PyTorch to 1e-5 on per-frame, tiled and clip-level f_A; skipped without openvino."""
import numpy as np
import pytest
import torch

from spact_mm.apis.backends import (
    BACKENDS,
    OpenVinoAnonymizer,
    TorchAnonymizer,
    build_anonymizer_runner,
    export_onnx,
    receptive_margin,
)
from spact_mm.apis.inference import anonymize_frames
from spact_mm.models.anonymizers import MotionOnlyAnonymizer, UNetAnonymizer


@pytest.fixture(autouse=True)
def openvino():
    for name in ('onnx', 'onnxscript', 'openvino'):
        pytest.importorskip(name)


def random_unet() -> UNetAnonymizer:
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=3)
    for m in unet.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return unet.eval()


def test_openvino_matches_pytorch_on_frames_and_tiles(tmp_path):
    assert 'openvino' in BACKENDS
    unet = random_unet()
    path = tmp_path / 'f_a.onnx'
    export_onnx(unet, str(path))
    runner = OpenVinoAnonymizer(str(path), num_threads=1, tile=0)
    assert runner.backend == 'openvino' and not runner.clip_level
    assert runner.size_divisor == 4 and runner.tile_margin == receptive_margin(unet)
    with torch.no_grad():
        for shape in ((2, 3, 48, 64), (1, 3, 36, 92)):  # sizes other than the export's
            x = torch.rand(shape, generator=torch.Generator().manual_seed(shape[-1]))
            assert (runner.anonymize_unit(x) - unet(x)).abs().max() < 1e-5
        tiled = OpenVinoAnonymizer(str(path), num_threads=1, tile=16)
        x = torch.rand(1, 3, 48, 76, generator=torch.Generator().manual_seed(5))
        assert (tiled.anonymize_unit(x) - unet(x)).abs().max() < 1e-5


def test_openvino_runner_from_build_and_clip_level_f_a():
    frames = np.random.default_rng(0).integers(0, 256, (5, 30, 44, 3), dtype=np.uint8)
    motion = MotionOnlyAnonymizer()
    runner = build_anonymizer_runner(motion, 'openvino', num_threads=1)
    assert runner.clip_level
    ref = anonymize_frames(TorchAnonymizer(motion), frames, as_clip=True).astype(int)
    got = anonymize_frames(runner, frames, as_clip=True).astype(int)
    assert np.abs(got - ref).max() <= 1  # uint8 rounding of float differences


def test_openvino_refuses_missing_and_foreign_models(tmp_path):
    with pytest.raises(FileNotFoundError):
        OpenVinoAnonymizer(str(tmp_path / 'none.onnx'))
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'not an onnx model')
    with pytest.raises(ValueError, match='bad.onnx'):
        OpenVinoAnonymizer(str(bad))
