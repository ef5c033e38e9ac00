"""Prepacked oneDNN convolutions of the torch backend (spact_mm.apis.conv_prepack)."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, fuse_conv_bn

from spact_mm.apis import conv_prepack
from spact_mm.apis.conv_prepack import (
    MAX_PACKED_SHAPES,
    PrepackedConv2d,
    count_prepacked,
    prepack_available,
    prepack_convs,
)
from spact_mm.models.anonymizers.unet import UNetAnonymizer

needs_onednn = pytest.mark.skipif(not prepack_available(),
                                  reason='this PyTorch build has no oneDNN prepacking ops')


def reference(conv: nn.Conv2d, x: torch.Tensor, relu: bool) -> torch.Tensor:
    """act(W * x + b) in float64, through PyTorch's float64 (non-oneDNN) convolution."""
    b = None if conv.bias is None else conv.bias.double()
    y = F.conv2d(x.double(), conv.weight.double(), b, conv.stride, conv.padding,
                 conv.dilation, conv.groups)
    return y.clamp_min(0) if relu else y


@needs_onednn
@pytest.mark.parametrize('cin,cout,k,stride,padding,dilation,groups,bias,act', [
    (3, 16, 3, 1, 1, 1, 1, True, 'relu'),
    (16, 32, 3, 2, 1, 1, 1, True, 'none'),
    (32, 64, 3, 1, 2, 2, 1, False, 'relu'),
    (16, 16, 3, 1, 1, 1, 4, True, 'none'),
    (64, 3, 1, 1, 0, 1, 1, True, 'none'),
    (8, 8, 5, 1, 0, 1, 1, True, 'relu'),
])
def test_prepacked_conv_matches_float64_reference(cin, cout, k, stride, padding, dilation,
                                                  groups, bias, act):
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias).eval()
    pre = PrepackedConv2d(conv, act)
    for layout in (torch.channels_last, torch.contiguous_format):
        x = torch.randn(2, cin, 19, 23).contiguous(memory_format=layout)
        with torch.inference_mode():
            y = pre(x)
        assert y.dtype == torch.float32
        torch.testing.assert_close(y.double(), reference(conv, x, act == 'relu'),
                                   rtol=1e-5, atol=1e-5)
    assert len(pre._packed) == 1  # one shape, packed once, whatever the memory layout


@needs_onednn
def test_prepacked_weights_follow_the_input_shape_and_stay_bounded():
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1).eval()
    pre = PrepackedConv2d(conv, 'relu')
    shapes = [(1, 8, 12, 12), (3, 8, 12, 12), (1, 8, 40, 24)] + [
        (1, 8, 10 + i, 10) for i in range(MAX_PACKED_SHAPES + 2)]
    with torch.inference_mode():
        for shape in shapes + shapes[:2]:  # back to earlier shapes after evictions
            x = torch.randn(shape)
            torch.testing.assert_close(pre(x).double(), reference(conv, x, True),
                                       rtol=1e-5, atol=1e-5)
    assert len(pre._packed) == MAX_PACKED_SHAPES


def test_prepacked_conv_refuses_what_it_cannot_pack():
    with pytest.raises(ValueError, match='padding'):
        PrepackedConv2d(nn.Conv2d(3, 3, 3, padding=1, padding_mode='reflect'))
    with pytest.raises(ValueError, match='padding'):
        PrepackedConv2d(nn.Conv2d(3, 3, 3, padding='same'))
    with pytest.raises(ValueError, match='activation'):
        PrepackedConv2d(nn.Conv2d(3, 3, 3), 'gelu')


@needs_onednn
def test_a_failing_oneDNN_call_falls_back_to_the_plain_conv_with_a_warning(monkeypatch):
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, padding=1).eval()
    pre = PrepackedConv2d(conv, 'relu')

    def broken(shape):
        raise RuntimeError('no kernel for this shape')

    monkeypatch.setattr(pre, '_weight_for', broken)
    x = torch.randn(1, 4, 9, 9)
    with torch.inference_mode(), pytest.warns(UserWarning, match='plain nn.Conv2d'):
        y = pre(x)
    torch.testing.assert_close(y.double(), reference(conv, x, True), rtol=1e-5, atol=1e-5)
    assert pre._failed


def _fused_unet() -> nn.Module:
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=8, num_stages=3).eval()
    for m in unet.modules():  # non-trivial folded BatchNorm
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    return fuse_conv_bn(unet)


@needs_onednn
def test_prepack_convs_on_a_unet_fuses_every_relu_and_keeps_the_output():
    plain = _fused_unet()
    packed = copy.deepcopy(plain)
    num_convs = sum(type(m) is nn.Conv2d for m in plain.modules())
    num_relu_modules = sum(isinstance(m, ConvModule) and isinstance(m.activate, nn.ReLU)
                           for m in plain.modules())
    assert prepack_convs(packed) == num_convs == count_prepacked(packed)
    assert num_relu_modules > 0
    assert not any(isinstance(m, nn.ReLU) for m in packed.modules())
    fused = [m for m in packed.modules()
             if isinstance(m, PrepackedConv2d) and m.activation == 'relu']
    assert len(fused) == num_relu_modules
    x = torch.rand(2, 3, 24, 40).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        torch.testing.assert_close(packed(x), plain(x), rtol=1e-5, atol=1e-5)


@needs_onednn
def test_prepack_convs_leaves_other_activations_and_conv_subclasses_unfused():
    class MyConv(nn.Conv2d):
        pass

    model = nn.Sequential(
        ConvModule(3, 8, 3, padding=1, act_cfg=dict(type='LeakyReLU')),
        ConvModule(8, 8, 3, padding=1, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')),
        MyConv(8, 4, 1)).eval()
    packed = copy.deepcopy(model)
    # the second ConvModule keeps its (unfolded) BatchNorm: conv packed, ReLU not fused
    assert prepack_convs(packed) == 2
    assert isinstance(packed[0].activate, nn.LeakyReLU)
    assert packed[0].conv.activation == 'none'
    assert isinstance(packed[1].activate, nn.ReLU)
    assert packed[1].conv.activation == 'none'
    assert type(packed[2]) is MyConv
    x = torch.randn(1, 3, 16, 16)
    with torch.inference_mode():
        torch.testing.assert_close(packed(x), model(x), rtol=1e-5, atol=1e-5)


def test_prepack_convs_does_nothing_without_the_oneDNN_ops(monkeypatch):
    monkeypatch.setattr(conv_prepack, 'prepack_available', lambda: False)
    model = _fused_unet()
    assert prepack_convs(model) == 0
    assert count_prepacked(model) == 0
    assert any(isinstance(m, nn.ReLU) for m in model.modules())


@needs_onednn
def test_torch_backend_prepacks_by_default_and_not_when_compiled_or_asked_not_to():
    from spact_mm.apis.backends import TorchAnonymizer

    unet = _fused_unet()
    on = TorchAnonymizer(unet, retain_memory=False)
    off = TorchAnonymizer(unet, retain_memory=False, prepack=False)
    assert on.prepacked == count_prepacked(on.module) > 0
    assert off.prepacked == count_prepacked(off.module) == 0
    x = torch.rand(3, 3, 32, 48)
    torch.testing.assert_close(on._run(x), off._run(x), rtol=1e-5, atol=1e-5)
    # the original f_A is not touched (the runner holds a deep copy)
    assert count_prepacked(unet) == 0


@needs_onednn
def test_prepack_convs_skips_a_convmodule_with_string_padding():
    model = nn.Sequential(ConvModule(3, 4, 3, padding='same', act_cfg=dict(type='ReLU'))).eval()
    packed = copy.deepcopy(model)
    assert prepack_convs(packed) == 0  # neither fused nor packed, and no error
    assert type(packed[0].conv) is nn.Conv2d and isinstance(packed[0].activate, nn.ReLU)
    x = torch.randn(1, 3, 9, 9)
    with torch.inference_mode():
        torch.testing.assert_close(packed(x), model(x), rtol=0, atol=0)


def test_torch_backend_uses_channels_last_only_for_an_f_a_with_2d_convs():
    import numpy as np

    from spact_mm.apis.backends import TorchAnonymizer
    from spact_mm.apis.inference import anonymize_frames
    from spact_mm.models.anonymizers.baselines import DownsampleAnonymizer

    assert TorchAnonymizer(_fused_unet(), retain_memory=False).channels_last
    down = DownsampleAnonymizer(factor=4).eval()
    runner = TorchAnonymizer(down, retain_memory=False)
    assert not runner.channels_last  # no conv weight: NCHW, where its resizes are faster
    assert not TorchAnonymizer(down, retain_memory=False, channels_last=False).channels_last
    frames = np.random.default_rng(0).integers(0, 256, (3, 24, 32, 3), dtype=np.uint8)
    with torch.no_grad():
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
        ref = (down(x).permute(0, 2, 3, 1).numpy() * 255).round()
    out = anonymize_frames(runner, frames).astype(float)
    assert np.abs(out - ref).max() <= 1  # the frames pipeline feeds it NCHW, same output
