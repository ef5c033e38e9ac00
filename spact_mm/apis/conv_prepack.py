"""Convolutions with weights prepacked once for oneDNN, for the ``torch`` backend.

PyTorch's eager CPU convolution (``aten::mkldnn_convolution``) hands oneDNN the
weight in PyTorch's layout, and oneDNN reorders it into its blocked layout on
*every* call. For wide, spatially small layers this reorder costs more than the
arithmetic: in the paper-width f_A at 112x112 the 1024 -> 1024 3x3 conv on a
7x7 map (a 37.7 MB weight) took 20.6 ms eagerly and 3.4 ms with the weight
reordered once (docs/benchmark.md, "prepacked weights"). ONNX Runtime prepacks
its weights when it loads a model, which was most of its lead there.

:class:`PrepackedConv2d` keeps the reordered weight, one per input shape (the
layout oneDNN picks depends on it), and calls the same oneDNN kernel that
``torch.compile``'s CPU backend uses for frozen convolutions
(``torch.ops.mkldnn._convolution_pointwise``), with a following ReLU fused in.
These ops are not public API: :func:`prepack_available` checks that they exist,
and a call that fails falls back to the plain convolution with a warning. This
is written here because no library offers a prepacked conv on dense
(channels-last) tensors: ``torch.utils.mkldnn`` needs opaque mkldnn tensors,
which ``torch.cat`` and bilinear upsampling (the UNet's skips) do not accept.
"""
import warnings
from collections import OrderedDict
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Reordered weights kept per conv (one per input shape seen; the oldest is dropped).
MAX_PACKED_SHAPES = 4


def prepack_available() -> bool:
    """Whether this PyTorch build has the oneDNN ops :class:`PrepackedConv2d` needs."""
    if not torch.backends.mkldnn.is_available():
        return False
    ops = torch.ops.mkldnn
    try:
        return all(hasattr(ops, name) for name in
                   ('_convolution_pointwise', '_reorder_convolution_weight'))
    except RuntimeError:  # an op namespace that cannot be loaded
        return False


class FusedConv2d(nn.Module):
    """Base of the inference convs that fuse a following ReLU: ``act(conv(x))``.

    Holds the conv and the activation, and runs them as plain modules where the
    fused kernel does not apply (:meth:`_fallback`). Shared by
    :class:`PrepackedConv2d` and :class:`~spact_mm.apis.onednn_conv.DirectConv2d`.

    Args:
        conv: The convolution.
        activation: ``'none'`` or ``'relu'``.
    """

    def __init__(self, conv: nn.Conv2d, activation: str = 'none') -> None:
        super().__init__()
        if activation not in ('none', 'relu'):
            raise ValueError(f"activation must be 'none' or 'relu', not {activation!r}")
        self.conv = conv
        self.activation = activation

    def extra_repr(self) -> str:
        return f'activation={self.activation!r}'

    def _fallback(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return F.relu(y) if self.activation == 'relu' else y


class PrepackedConv2d(FusedConv2d):
    """``nn.Conv2d`` (zeros padding) for inference, with oneDNN-prepacked weights.

    Computes ``y = act(W * x + b)`` (``*``: 2D cross-correlation with the conv's
    stride, padding, dilation and groups; ``act`` the identity or ReLU), the same
    function as ``act(conv(x))``. Inference only: no gradient flows through it.
    Under tracing, ``torch.export`` (ONNX) or ``torch.compile`` it runs as the
    plain conv (and ReLU), so a prepacked model still exports.

    Args:
        conv: The convolution (its weight and bias are shared, not copied).
        activation: ``'none'`` or ``'relu'`` (fused into the kernel).
    """

    def __init__(self, conv: nn.Conv2d, activation: str = 'none') -> None:
        super().__init__(conv, activation)
        if not _zero_padded(conv):
            raise ValueError(f'PrepackedConv2d needs numeric zero padding, not '
                             f'padding={conv.padding!r}, padding_mode={conv.padding_mode!r}')
        self._packed: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._failed = False

    def _weight_for(self, shape: tuple) -> torch.Tensor:
        c = self.conv
        packed = self._packed.get(shape)
        if packed is None:
            packed = torch.ops.mkldnn._reorder_convolution_weight(
                c.weight, list(c.padding), list(c.stride), list(c.dilation), c.groups,
                list(shape))
            self._packed[shape] = packed
            while len(self._packed) > MAX_PACKED_SHAPES:
                self._packed.popitem(last=False)
        else:
            self._packed.move_to_end(shape)
        return packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        # traced, exported (ONNX) or compiled: the plain conv, which those understand
        tracing = torch.jit.is_tracing() or torch.compiler.is_compiling()
        if (tracing or self._failed or x.dim() != 4 or x.device.type != 'cpu'
                or x.dtype != torch.float32 or c.weight.dtype != torch.float32):
            return self._fallback(x)
        try:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self._weight_for(tuple(x.shape)), c.bias, list(c.padding), list(c.stride),
                list(c.dilation), c.groups, self.activation, [], '')
        except RuntimeError as err:
            self._failed = True
            warnings.warn(f'prepacked oneDNN convolution failed ({err}); this conv runs '
                          'as a plain nn.Conv2d from now on', stacklevel=2)
            return self._fallback(x)


def _zero_padded(conv: nn.Conv2d) -> bool:
    """Numeric zero padding (no padding mode, no ``'same'`` / ``'valid'``)."""
    return conv.padding_mode == 'zeros' and not isinstance(conv.padding, str)


def _packable(conv: nn.Module) -> bool:
    """What :func:`prepack_convs` replaces: a plain ``nn.Conv2d`` (not a subclass)
    with numeric zero padding."""
    return type(conv) is nn.Conv2d and _zero_padded(conv)


def _fusable_relu(module: nn.Module, accepts: Callable[[nn.Module], bool]) -> bool:
    """A ConvModule of order conv, norm, act whose norm is folded away, whose act is
    ReLU and whose conv ``accepts`` takes."""
    from mmcv.cnn import ConvModule

    if type(module) is not ConvModule or tuple(module.order) != ('conv', 'norm', 'act'):
        return False
    norm_ok = not module.with_norm or isinstance(module.norm, nn.Identity)
    return (norm_ok and module.with_activation and type(module.activate) is nn.ReLU
            and accepts(module.conv))


def replace_convs(module: nn.Module, make: Callable[..., nn.Module],
                  accepts: Callable[[nn.Module], bool]) -> int:
    """Replace every conv that ``accepts`` takes by ``make(conv)``, in place.

    A conv inside an mmcv ``ConvModule`` whose BatchNorm was folded (mmcv's
    ``fuse_conv_bn``) and whose activation is ReLU becomes ``make(conv, 'relu')``,
    and the module's own ReLU ``nn.Identity``. The walk shared by
    :func:`prepack_convs` and :func:`~spact_mm.apis.onednn_conv.direct_convs`.

    Returns:
        The number of convolutions replaced.
    """
    count = 0
    for name, child in list(module.named_children()):
        if _fusable_relu(child, accepts):
            child.conv = make(child.conv, 'relu')
            child.activate = nn.Identity()
            count += 1
        elif accepts(child):
            setattr(module, name, make(child))
            count += 1
        else:
            count += replace_convs(child, make, accepts)
    return count


def prepack_convs(module: nn.Module) -> int:
    """Replace every plain ``nn.Conv2d`` in ``module`` by a :class:`PrepackedConv2d`, in place.

    A conv inside an mmcv ``ConvModule`` whose BatchNorm was folded (mmcv's
    ``fuse_conv_bn``) and whose activation is ReLU gets the ReLU fused, and the
    module's own ReLU becomes ``nn.Identity``. Subclasses of ``nn.Conv2d`` and
    convs with other padding modes are left as they are. Nothing changes where
    :func:`prepack_available` is False.

    Args:
        module: A model in eval mode, for inference on the CPU in float32.

    Returns:
        The number of convolutions replaced.
    """
    if not prepack_available():
        return 0
    return replace_convs(module, PrepackedConv2d, _packable)


def count_prepacked(module: Optional[nn.Module]) -> int:
    """How many :class:`PrepackedConv2d` ``module`` holds (0 for ``None``)."""
    return 0 if module is None else sum(isinstance(m, PrepackedConv2d) for m in module.modules())
