"""Convolutions as prebuilt oneDNN primitives (spact_mm.apis.onednn_conv, the onednn option).

Most tests need the ``deploy`` extra's oneDNN (and build the C++ op once, about 30 s, cached
by torch.utils.cpp_extension); they skip without it. The error for a missing oneDNN and the
CLI's option check run everywhere."""
import copy
import gc

import pytest
import torch
import torch.nn as nn

from spact_mm.apis import onednn_conv
from spact_mm.apis.backends import TorchAnonymizer
from spact_mm.apis.onednn_conv import (
    DirectConv2d,
    count_direct,
    direct_convs,
    onednn_available,
    require_onednn,
)
from spact_mm.models.anonymizers.unet import UNetAnonymizer

needs_onednn = pytest.mark.skipif(
    not onednn_available(),
    reason=f'no oneDNN for the onednn option ({onednn_conv._load()})')


def reference(conv: nn.Conv2d, x: torch.Tensor, relu: bool) -> torch.Tensor:
    """y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] x_pad[n, c, s i + d u, s j + d v],
    then max(y, 0) for ReLU: the cross-correlation written out, one kernel tap at a time,
    in float64."""
    x = x.double()
    w = conv.weight.double()
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (conv.kernel_size, conv.stride, conv.padding,
                                              conv.dilation)
    n, _, h, wd = x.shape
    xp = torch.zeros(n, x.shape[1], h + 2 * ph, wd + 2 * pw, dtype=torch.float64)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = torch.zeros(n, w.shape[0], oh, ow, dtype=torch.float64)
    for u in range(kh):
        for v in range(kw):
            patch = xp[:, :, dh * u:dh * u + sh * (oh - 1) + 1:sh,
                       dw * v:dw * v + sw * (ow - 1) + 1:sw]  # (n, c, oh, ow)
            y += torch.einsum('oc,ncij->noij', w[:, :, u, v], patch)
    if conv.bias is not None:
        y += conv.bias.double().view(1, -1, 1, 1)
    return y.clamp_min(0) if relu else y


@needs_onednn
@pytest.mark.parametrize('cin,cout,k,stride,padding,dilation,bias,act', [
    (3, 16, 3, 1, 1, 1, True, 'relu'),
    (48, 16, 3, 1, 1, 1, False, 'relu'),
    (16, 32, 3, 2, 1, 1, True, 'none'),
    (32, 64, 3, 1, 2, 2, False, 'relu'),
    (16, 48, 1, 1, 0, 1, True, 'none'),
    (8, 8, 5, 1, 0, 1, True, 'relu'),
])
def test_direct_conv_matches_the_equation_in_float64(cin, cout, k, stride, padding, dilation,
                                                     bias, act):
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, k, stride, padding, dilation, bias=bias).eval()
    direct = DirectConv2d(conv, act)
    for layout in (torch.channels_last, torch.contiguous_format):
        x = torch.randn(2, cin, 19, 23).contiguous(memory_format=layout)
        with torch.inference_mode():
            y = direct(x)
        assert y.dtype == torch.float32 and y.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(y.double(), reference(conv, x, act == 'relu'),
                                   rtol=1e-5, atol=1e-5)


@needs_onednn
def test_a_copy_of_the_weight_is_used_and_more_shapes_than_kept_stay_right():
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1).eval()
    direct = DirectConv2d(conv, 'relu')
    expected = copy.deepcopy(conv)
    with torch.no_grad():
        conv.weight.add_(1.0)  # the module's own weight changes; the op kept a copy
    sizes = [(5 + i, 7 + 2 * i) for i in range(10)] + [(5, 7)]  # 10 shapes (8 kept), then back
    for h, w in sizes:
        x = torch.randn(1, 8, h, w)
        with torch.inference_mode():
            torch.testing.assert_close(direct(x).double(), reference(expected, x, True),
                                       rtol=1e-5, atol=1e-5)
    assert torch.ops.spact_onednn.cached(direct._handle.value) == 8


@needs_onednn
def test_each_thread_count_gets_its_own_primitive():
    # a primitive runs on the threads it was built for, whatever set_num_threads says later,
    # so ThreadChoice's one-thread calls would run on all threads with a shared one
    conv = nn.Conv2d(8, 8, 3, padding=1).eval()
    direct = DirectConv2d(conv)
    x = torch.randn(1, 8, 9, 9)
    threads = torch.get_num_threads()
    try:
        for n in (2, 1, 2, 1):
            torch.set_num_threads(n)
            with torch.inference_mode():
                torch.testing.assert_close(direct(x).double(), reference(conv, x, False),
                                           rtol=1e-5, atol=1e-5)
    finally:
        torch.set_num_threads(threads)
    assert torch.ops.spact_onednn.cached(direct._handle.value) == 2


@needs_onednn
def test_deep_copies_share_the_conv_and_the_last_one_releases_it():
    conv = nn.Conv2d(4, 4, 3, padding=1).eval()
    direct = DirectConv2d(conv)
    handle = direct._handle.value
    twin = copy.deepcopy(direct)
    assert twin._handle is direct._handle
    x = torch.randn(1, 4, 6, 6)
    del direct
    gc.collect()
    with torch.inference_mode():  # the copy still holds the conv
        torch.testing.assert_close(twin(x).double(), reference(conv, x, False),
                                   rtol=1e-5, atol=1e-5)
    del twin
    gc.collect()
    with pytest.raises(RuntimeError, match='no convolution with handle'):
        torch.ops.spact_onednn.conv(x, handle)


@needs_onednn
def test_bad_input_is_a_clear_error_and_other_inputs_run_the_plain_conv():
    conv = nn.Conv2d(4, 8, 3, padding=1).eval()
    direct = DirectConv2d(conv)
    with pytest.raises(RuntimeError, match='input has 3 channels, the weight expects 4'):
        torch.ops.spact_onednn.conv(torch.randn(1, 3, 6, 6), direct._handle.value)
    with pytest.raises(RuntimeError, match='float32 CPU input'):
        torch.ops.spact_onednn.conv(torch.randn(1, 4, 6, 6).double(), direct._handle.value)
    with pytest.raises(ValueError, match='groups=1'):
        DirectConv2d(nn.Conv2d(4, 4, 3, groups=2))
    x = torch.randn(1, 4, 6, 6, dtype=torch.float64)  # not float32: the plain conv
    with pytest.raises(RuntimeError, match='(?i)type|dtype'):
        direct(x)  # nn.Conv2d's own error for a float64 input and a float32 weight
    with torch.inference_mode():
        torch.testing.assert_close(direct(x.float()), conv(x.float()), rtol=1e-5, atol=1e-5)


def _unet() -> UNetAnonymizer:
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=8, num_stages=3, space_to_depth=2).eval()
    for m in unet.modules():  # BatchNorm statistics other than the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return unet


@needs_onednn
def test_unet_runs_every_conv_through_the_op_with_relu_fused():
    unet = _unet()
    n_convs = sum(isinstance(m, nn.Conv2d) for m in unet.modules())
    direct = TorchAnonymizer(unet, onednn=True, adaptive_threads=False)
    plain = TorchAnonymizer(unet, prepack=False, adaptive_threads=False)
    assert direct.direct == n_convs == count_direct(direct.module) and direct.prepacked == 0
    fused_relus = sum(isinstance(m, DirectConv2d) and m.activation == 'relu'
                      for m in direct.module.modules())
    assert fused_relus == n_convs - 1  # all but the output conv, which a sigmoid follows
    x = torch.rand(2, 3, 48, 40)
    threads = torch.get_num_threads()
    try:
        for n in sorted({1, threads}):
            torch.set_num_threads(n)
            torch.testing.assert_close(direct.anonymize_unit(x), plain.anonymize_unit(x),
                                       rtol=1e-5, atol=1e-5)
    finally:
        torch.set_num_threads(threads)
    assert direct_convs(nn.Sequential(nn.Conv2d(3, 3, 3, groups=3))) == 0  # left as it is


@needs_onednn
def test_compiled_graph_calls_the_op_once_per_conv():
    from torch.profiler import profile

    unet = _unet()
    n_convs = sum(isinstance(m, nn.Conv2d) for m in unet.modules())
    compiled = TorchAnonymizer(unet, onednn=True, compile=True, adaptive_threads=False)
    plain = TorchAnonymizer(unet, prepack=False, adaptive_threads=False)
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(compiled.anonymize_unit(x), plain.anonymize_unit(x),  # compiles
                               rtol=1e-5, atol=1e-5)
    with profile() as prof:
        compiled.anonymize_unit(x)
    calls = sum(e.count for e in prof.key_averages() if e.key == 'spact_onednn::conv')
    assert calls == n_convs


def test_a_missing_onednn_is_an_import_error_that_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv(onednn_conv.ROOT_ENV, str(tmp_path))
    onednn_conv._load.cache_clear()
    try:
        assert onednn_conv.onednn_root() is None
        with pytest.raises(ImportError, match=r'not found under .*requirements/deploy\.txt'):
            require_onednn()
        with pytest.raises(ImportError, match='deploy extra'):
            TorchAnonymizer(_unet(), onednn=True)
    finally:
        monkeypatch.delenv(onednn_conv.ROOT_ENV)
        onednn_conv._load.cache_clear()


def test_cli_onednn_needs_the_torch_backend(tmp_path, capsys):
    import runpy
    cli = runpy.run_path('tools/anonymize_video.py')
    with pytest.raises(SystemExit) as exit_info:
        cli['main']([str(tmp_path / 'v.mp4'), '--anonymizer-config',
                     'configs/spact-camera/spact-stage1_unet-camera_200iter_synthetic-a.py',
                     '--out', str(tmp_path / 'o.mp4'), '--backend', 'onnxruntime', '--onednn'])
    assert exit_info.value.code == 2
    assert '--onednn is an option of --backend torch' in capsys.readouterr().err
