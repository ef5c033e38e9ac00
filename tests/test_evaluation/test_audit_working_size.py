"""The privacy audit at a working size (issue 17): f_A runs on resized frames, as deployed.

The reference is written in float64 numpy from the definitions: area averaging
(the mean of each 2x2 block), f_A, and bilinear enlarging with half-pixel
centres (``src = (i + 0.5) / s - 0.5``, clamped at the borders).
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import load_tool

from spact_mm.evaluation import privacy_audit as pa


class Pointwise(nn.Module):
    """A stand-in f_A: ``sigmoid(3 x - 1)`` per pixel; checks the size divisor."""

    def __init__(self, clip_level: bool = False, size_divisor: int = 1) -> None:
        super().__init__()
        self.clip_level = clip_level
        self.size_divisor = size_divisor
        self.seen = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape))
        assert x.shape[-1] % self.size_divisor == 0 and x.shape[-2] % self.size_divisor == 0
        return torch.sigmoid(3 * x - 1)


def ref_bilinear_axis(a: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    n_in = a.shape[axis]
    src = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    shape = [1] * a.ndim
    shape[axis] = n_out
    lam = lam.reshape(shape)
    return np.take(a, i0, axis) * (1 - lam) + np.take(a, i1, axis) * lam


def reference(x: np.ndarray) -> np.ndarray:
    """Halve by 2x2 means, apply f_A, double bilinearly (float64)."""
    h, w = x.shape[-2:]
    small = x.reshape(*x.shape[:-2], h // 2, 2, w // 2, 2).mean(axis=(-3, -1))
    y = 1 / (1 + np.exp(-(3 * small - 1)))
    return ref_bilinear_axis(ref_bilinear_axis(y, h, -2), w, -1)


@pytest.mark.parametrize('clip_level', [False, True])
def test_working_size_is_area_down_f_a_and_bilinear_up(clip_level):
    x = torch.rand(2, 3, 4, 16, 24, generator=torch.Generator().manual_seed(0),
                   dtype=torch.float64)
    f_a = Pointwise(clip_level)
    wrapped = pa.WorkingSizeAnonymizer(f_a, 8)  # short side 16 -> 8: halve
    assert wrapped.clip_level == clip_level
    y = wrapped(x)
    assert f_a.seen == [(2, 3, 4, 8, 12)]
    np.testing.assert_allclose(y.numpy(), reference(x.numpy()), rtol=0, atol=1e-12)
    # the full size leaves f_A's input alone
    np.testing.assert_allclose(pa.WorkingSizeAnonymizer(f_a, 16)(x).numpy(),
                               torch.sigmoid(3 * x - 1).numpy(), rtol=0, atol=0)


def test_working_size_pads_to_the_size_divisor_and_keeps_the_frame_size():
    f_a = Pointwise(size_divisor=4)
    x = torch.rand(5, 3, 40, 48, generator=torch.Generator().manual_seed(1))
    y = pa.WorkingSizeAnonymizer(f_a, 15)(x)  # 15 x 18 at f_A's size, padded to 16 x 20
    assert f_a.seen == [(5, 3, 16, 20)] and y.shape == x.shape
    with pytest.raises(ValueError, match='>= 1'):
        pa.WorkingSizeAnonymizer(f_a, 0)


def test_resolve_working_size(tmp_path):
    assert pa.resolve_working_size(None, 'raw') is None
    assert pa.resolve_working_size('full', 'x.pth') is None
    assert pa.resolve_working_size('24', 'raw') == 24
    ckpt = tmp_path / 'final.pth'
    cfg = "val_pipeline = [dict(type='Resize', scale=(40, 30), keep_ratio=False)]\n"
    torch.save(dict(meta=dict(cfg=cfg), state_dict={}), str(ckpt))
    assert pa.resolve_working_size('trained', str(ckpt)) == 30
    with pytest.raises(ValueError, match='records no training frame size'):
        pa.resolve_working_size('trained', 'downsample-4x')
    with pytest.raises(ValueError, match="'full', 'trained' or pixels"):
        pa.resolve_working_size('half', 'raw')
    with pytest.raises(ValueError, match='>= 1'):
        pa.resolve_working_size('0', 'raw')


def test_cli_passes_the_working_size(monkeypatch):
    tool = load_tool('privacy_audit.py')
    seen = {}
    monkeypatch.setattr(tool, 'run_audit', lambda *a, **k: seen.update(k) or {})
    monkeypatch.setattr(tool, 'audit_with_raw', lambda *a, **k: (seen.update(k), {}))
    tool.main(['cfg.py', '--anonymizer', 'a.pth', '--work-dir', 'w', '--working-size',
               'trained'])
    assert seen['working_size'] == 'trained'
    seen.clear()
    tool.main(['cfg.py', '--anonymizer', 'a.pth', '--work-dir', 'w', '--with-raw'])
    assert seen['working_size'] is None
