"""Convolutions as oneDNN primitives built once per input shape (the ``onednn`` option).

Each call of PyTorch's CPU convolution into oneDNN (``F.conv2d``, and
``torch.ops.mkldnn._convolution_pointwise``, which prepacked eager convs and
``torch.compile``'s frozen graphs call) pays about 25 us of fixed cost, whatever
the conv's size: ideep rebuilds the memory descriptors, attributes and primitive
descriptor and looks the primitive up in oneDNN's cache on every call. A 1x1
conv on a 1x1 map took 27.6 us that way and 4.8 us as a prebuilt primitive
(docs/benchmark.md, "a conv call with less fixed cost", session 18). For the
camera f_A on a single 112x112 frame (11 convs of 1-11 MFLOP) that fixed cost
is a quarter to a third of the pass, and the reason PyTorch stayed below ONNX Runtime's
speed there (issue 17).

:class:`DirectConv2d` calls ``torch.ops.spact_onednn.conv``, a small C++ op
(``csrc/onednn_conv.cpp``) that keeps, per input shape and thread count (a
primitive runs on the threads it was built for), the primitive and the
weight reordered into its layout, and only executes it. It is compiled at first
use with ``torch.utils.cpp_extension`` (about 30 s; cached in
``TORCH_EXTENSIONS_DIR``) against the oneDNN of the optional ``deploy`` extra
(PyPI's ``onednn-cpu-gomp`` and ``onednn-devel-cpu-gomp``: PyTorch bundles
oneDNN but does not export it). Under ``torch.compile`` the op stays in the
graph (it has a fake implementation for tracing), so the compiled pass calls it
instead of ``mkldnn._convolution_pointwise``. It is written here because no
kept library offers a prebuilt oneDNN primitive on PyTorch tensors.
"""
import functools
import os
import sys
import warnings
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from .conv_prepack import FusedConv2d, _packable, replace_convs

#: The C++ op's source.
SOURCE = Path(__file__).with_name('csrc') / 'onednn_conv.cpp'
#: A folder with ``include/oneapi/dnnl/dnnl.hpp`` and ``lib/libdnnl.so*`` (default:
#: the Python prefix, where pip puts the ``deploy`` extra's oneDNN).
ROOT_ENV = 'SPACT_ONEDNN_ROOT'
#: What to install for this option.
EXTRA_HINT = ('pip install -r requirements/deploy.txt (onednn-cpu-gomp and onednn-devel-cpu-gomp, '
              'Linux x86_64) and a C++ compiler')

#: handle -> (out channels, kernel size, stride, padding, dilation): the fake op's shapes.
_SHAPES: Dict[int, Tuple[int, Tuple[int, int], Tuple[int, int], Tuple[int, int],
                         Tuple[int, int]]] = {}


def onednn_root() -> Optional[Path]:
    """Where the ``deploy`` extra's oneDNN headers and library are, or ``None``."""
    candidates = [os.environ[ROOT_ENV]] if os.environ.get(ROOT_ENV) else [sys.prefix]
    for root in map(Path, candidates):
        header = root / 'include' / 'oneapi' / 'dnnl' / 'dnnl.hpp'
        if header.is_file() and any((root / 'lib').glob('libdnnl.so*')):
            return root
    return None


_fake_registered = False


@functools.cache
def _load() -> Optional[str]:
    """Build and load the op once per process; ``None`` on success, else why not."""
    if not torch.backends.mkldnn.is_available():
        return 'this PyTorch build has no oneDNN'
    root = onednn_root()
    if root is None:
        where = os.environ.get(ROOT_ENV) or sys.prefix
        return f'oneDNN headers and library not found under {where}'
    from torch.utils.cpp_extension import load

    lib = root / 'lib'
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # "No CUDA runtime is found" on CPU machines
            load(name='spact_onednn_conv', sources=[str(SOURCE)],
                 extra_include_paths=[str(root / 'include')],
                 extra_cflags=['-O2'], extra_ldflags=[f'-L{lib}', '-ldnnl', f'-Wl,-rpath,{lib}'],
                 is_python_module=False, verbose=False)
    except (OSError, RuntimeError, ImportError) as err:  # no compiler, a failed build
        return f'building {SOURCE.name} failed: {str(err).strip().splitlines()[-1]}'
    global _fake_registered
    if not _fake_registered:
        torch.library.register_fake('spact_onednn::conv')(_fake_conv)
        _fake_registered = True
    return None


def _fake_conv(x: torch.Tensor, handle: int) -> torch.Tensor:
    """The op's output shape for tracing (``torch.compile``), from :data:`_SHAPES`."""
    out_ch, (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _SHAPES[handle]
    n, _, h, w = x.shape
    size = (n, out_ch, (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
            (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
    return x.new_empty(size).contiguous(memory_format=torch.channels_last)


def onednn_available() -> bool:
    """Whether :class:`DirectConv2d` can run here (builds the op on the first call)."""
    return _load() is None


def require_onednn() -> None:
    """Raise ``ImportError`` saying what is missing when :func:`onednn_available` is False."""
    why = _load()
    if why is not None:
        raise ImportError(f'the onednn option needs the oneDNN of the optional deploy extra: '
                          f'{why}. Install it with {EXTRA_HINT}')


class _Handle:
    """A convolution held by the C++ op, released when the last module using it goes.

    Deep copies share it (the weight it holds is a copy, so nothing can change it).
    """

    def __init__(self, value: int) -> None:
        self.value = value

    def __deepcopy__(self, memo) -> '_Handle':
        return self

    def __del__(self) -> None:
        try:
            torch.ops.spact_onednn.release(self.value)
            _SHAPES.pop(self.value, None)
        except Exception:  # noqa: BLE001 - interpreter shutdown: the op may be gone
            pass


class DirectConv2d(FusedConv2d):
    """``nn.Conv2d`` (zeros padding, groups 1) for inference, as a prebuilt oneDNN primitive.

    Computes ``y = act(W * x + b)`` (``*``: 2D cross-correlation with the conv's
    stride, padding and dilation; ``act`` the identity or ReLU), the function of
    ``act(conv(x))``, on a copy of the conv's weight taken here: later changes to
    ``conv.weight`` are not seen. Inference only. Under ``torch.jit`` tracing and
    ``torch.export`` (ONNX) it runs the plain conv; under ``torch.compile`` the op.

    Args:
        conv: A plain ``nn.Conv2d`` with numeric zero padding and ``groups=1``.
        activation: ``'none'`` or ``'relu'`` (fused into the primitive).
    """

    def __init__(self, conv: nn.Conv2d, activation: str = 'none') -> None:
        super().__init__(conv, activation)
        require_onednn()
        if not direct_convertible(conv):
            raise ValueError(f'DirectConv2d needs a float32 nn.Conv2d with numeric zero padding '
                             f'and groups=1, not {conv}')
        bias = None if conv.bias is None else conv.bias.detach()
        handle = torch.ops.spact_onednn.create(
            conv.weight.detach(), bias, list(conv.stride), list(conv.padding),
            list(conv.dilation), activation == 'relu')
        _SHAPES[handle] = (conv.out_channels, tuple(conv.kernel_size), tuple(conv.stride),
                           tuple(conv.padding), tuple(conv.dilation))
        self._handle = _Handle(handle)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (torch.jit.is_tracing() or torch.compiler.is_exporting() or x.dim() != 4
                or x.device.type != 'cpu' or x.dtype != torch.float32):
            return self._fallback(x)
        return torch.ops.spact_onednn.conv(x, self._handle.value)


def direct_convertible(conv: nn.Module) -> bool:
    """What :func:`~spact_mm.apis.conv_prepack.prepack_convs` packs, in float32 on the
    CPU and with groups 1."""
    return (_packable(conv) and conv.groups == 1 and conv.weight.dtype == torch.float32
            and conv.weight.device.type == 'cpu')


def direct_convs(module: nn.Module) -> int:
    """Replace every convertible conv in ``module`` by a :class:`DirectConv2d`, in place.

    As :func:`~spact_mm.apis.conv_prepack.prepack_convs`: a conv in an mmcv
    ``ConvModule`` with its BatchNorm folded and a ReLU gets the ReLU fused.

    Raises:
        ImportError: The op cannot be built here (:func:`require_onednn` says why).

    Returns:
        The number of convolutions replaced.
    """
    require_onednn()
    return replace_convs(module, DirectConv2d, direct_convertible)


def count_direct(module: Optional[nn.Module]) -> int:
    """How many :class:`DirectConv2d` ``module`` holds (0 for ``None``)."""
    return 0 if module is None else sum(isinstance(m, DirectConv2d) for m in module.modules())
