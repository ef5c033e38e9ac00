"""UNetAnonymizer(space_to_depth=r): the UNet on r x r pixel blocks (issue 17's camera f_A).

The reference rebuilds the block layout index by index in numpy (float64), straight from
the definition ``x_hat = PS_r(sigmoid(UNet(PU_r(x))))`` with ``PU_r(x)[c r^2 + i r + j, y,
x'] = x[c, r y + i, r x' + j]``, and runs the same weights as a plain UNet of ``r^2 C``
channels.
"""
import numpy as np
import pytest
import torch

from spact_mm.models.anonymizers import UNetAnonymizer


def _blocks(x: np.ndarray, r: int) -> np.ndarray:
    """(B, C, H, W) -> (B, C r^2, H / r, W / r), element by element."""
    b, c, h, w = x.shape
    out = np.zeros((b, c * r * r, h // r, w // r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[:, ch * r * r + i * r + j] = x[:, ch, i::r, j::r]
    return out


def _unblocks(y: np.ndarray, r: int) -> np.ndarray:
    """The inverse of :func:`_blocks`, element by element."""
    b, cr, h, w = y.shape
    c = cr // (r * r)
    out = np.zeros((b, c, h * r, w * r))
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                out[:, ch, i::r, j::r] = y[:, ch * r * r + i * r + j]
    return out


@pytest.mark.parametrize('r,stages', [(2, 2), (4, 3), (3, 1)])
def test_forward_is_the_unet_on_pixel_blocks(r, stages):
    torch.manual_seed(0)
    model = UNetAnonymizer(base_channels=4, num_stages=stages, norm_cfg=None,
                           space_to_depth=r).double().eval()
    plain = UNetAnonymizer(in_channels=3 * r * r, base_channels=4, num_stages=stages,
                           norm_cfg=None).double().eval()
    plain.load_state_dict(model.state_dict())  # same parameters, no block layout
    assert model.size_divisor == r * 2**(stages - 1)
    x = torch.rand(2, 3, 2 * model.size_divisor, 3 * model.size_divisor, dtype=torch.float64)
    with torch.no_grad():
        out = model(x)
        ref = _unblocks(plain(torch.from_numpy(_blocks(x.numpy(), r))).numpy(), r)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-12)


def test_one_block_of_the_input_moves_only_nearby_outputs():
    torch.manual_seed(0)
    model = UNetAnonymizer(base_channels=4, num_stages=1, norm_cfg=None,
                           space_to_depth=4).double().eval()
    x = torch.rand(1, 3, 32, 32, dtype=torch.float64)
    y = x.clone()
    y[:, :, 0, 0] += 0.5  # block (0, 0); one 3x3 conv pair reaches two blocks further
    with torch.no_grad():
        diff = (model(y) - model(x)).abs().sum(1)[0]
    assert diff[:12, :12].max() > 0
    assert diff[12:].max() == 0 and diff[:, 12:].max() == 0


def test_bad_space_to_depth_and_sizes_are_refused():
    with pytest.raises(ValueError, match='space_to_depth'):
        UNetAnonymizer(space_to_depth=0)
    with pytest.raises(ValueError, match='space_to_depth'):
        UNetAnonymizer(space_to_depth=1.5)
    model = UNetAnonymizer(base_channels=4, num_stages=2, space_to_depth=4)
    with pytest.raises(ValueError, match='divisible by 8'):
        model(torch.rand(1, 3, 12, 16))
