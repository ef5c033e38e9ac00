"""Anonymize frames and videos with a trained f_A (the deployed f_A^* of Sec. 4).

``init_anonymizer`` builds the frozen anonymizer of any spact_mm config (its
``model.data_preprocessor``, an :class:`AnonymizerDataPreprocessor`) and loads
a checkpoint; ``anonymize_frames`` runs it on an array of frames in batches;
``anonymize_video`` streams a video file through it in bounded chunks
(:class:`FrameStream`: constant memory, the whole-video result also for
clip-level f_A) and writes a video with the same frame count, frame rate and
size, with f_A at a chosen working size (:func:`working_size`);
``anonymize_videos`` does a file or a folder and keeps going past unreadable
files; ``anonymize_stream`` records a camera or stream (Ctrl-C stops it with a
valid output). Runtime backends (fused channels-last PyTorch, ONNX Runtime)
are in :mod:`spact_mm.apis.backends`. ``tools/anonymize_video.py`` is the CLI
over these functions.

Opening uses decord (as mmaction2's ``DecordInit``: frame count, random
access), with OpenCV's ``VideoCapture`` as the fallback for containers decord
cannot open; streaming decodes with ``VideoCapture`` (flat memory, see
``_Video.batches``); writing uses OpenCV's ``VideoWriter`` (mmcv has no
streaming writer).
"""
import ast
import copy
import gc
import os
import os.path as osp
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import cv2  # imported before decord (lazily below): decord first breaks cv2's PNG reading
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from tqdm import tqdm

from spact_mm.models.anonymizers.clip_utils import is_clip_level

from .backends import device_of

#: Extensions taken as videos when a folder is given.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.m4v', '.webm', '.mpg', '.mpeg', '.wmv',
                    '.flv', '.3gp', '.ts', '.ogv')
#: Frame pixels decoded per chunk at most (one 1920x1080 frame): ``batch_size`` frames
#: of a large video would hold ``batch_size`` full frames in every buffer of the chunk,
#: and ONNX Runtime's arena keeps the largest pass. Four 1080p frames per chunk (until
#: session 17) cost 80 MiB more peak memory through PyTorch and 130 MiB more through ONNX
#: Runtime, at the same speed (docs/benchmark.md, "A second host").
MAX_CHUNK_PIXELS = 1920 * 1080
#: Output containers OpenCV writes here, with their codec; others are written as .mp4.
WRITE_FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.mkv': 'mp4v', '.avi': 'MJPG'}


class VideoReadError(RuntimeError):
    """A video that neither decord nor OpenCV can read; the message names the file."""


class TruncatedVideoError(VideoReadError):
    """A video that ended before the frame count its container declares."""


class OutputPathError(ValueError):
    """An output path that would overwrite an input (the message names both)."""


# ----------------------------------------------------------------------------- model
def _training_only_options() -> set:
    """Arguments of the ``AnonymizerDataPreprocessor`` subclasses that the base class lacks.

    They configure training only (the SSL views, L_TC, the anchor's trust region, ...);
    :func:`init_anonymizer` builds the plain base class, so it drops them. Read from the
    signatures, so that an option a subclass gains later is dropped too, while a
    misspelt key of the base class still fails.
    """
    import inspect

    from spact_mm.models.data_preprocessors import AnonymizerDataPreprocessor

    def params(cls) -> set:
        return set(inspect.signature(cls.__init__).parameters) - {'self', 'args', 'kwargs'}

    base, extra, todo = params(AnonymizerDataPreprocessor), set(), [AnonymizerDataPreprocessor]
    while todo:
        for sub in todo.pop().__subclasses__():
            extra |= params(sub)
            todo.append(sub)
    return extra - base


def init_anonymizer(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: Optional[Union[str, torch.device]] = None,
                    backend: Optional[str] = None,
                    **backend_kwargs):
    """Build the frozen f_A of a spact_mm config and load its weights.

    Args:
        config: A config (path or :class:`Config`) whose ``model.data_preprocessor``
            is an ``AnonymizerDataPreprocessor``: any SPAct stage config, or a
            recognizer config made with
            :func:`spact_mm.utils.deploy.put_anonymizer_in_front`.
        checkpoint: A checkpoint holding f_A (a stage-1/2/3 ``final.pth``, or one
            with only the anonymizer). ``None`` keeps the config's own
            ``checkpoint`` entry (or untrained weights if it has none).
        device: Where to run; default ``cuda:0`` if available, else ``cpu``.
        backend: ``None`` (default): return the preprocessor itself. ``'torch'``,
            ``'onnxruntime'`` or ``'openvino'``: return a runner of that backend
            (:func:`spact_mm.apis.backends.build_anonymizer_runner`, with ``backend_kwargs``
            such as ``onnx_model``, ``num_threads``, ``compile``, ``tile``), accepted by
            :func:`anonymize_frames`, :func:`anonymize_video` and
            :func:`anonymize_stream`.

    Returns:
        The ``AnonymizerDataPreprocessor`` in eval mode with ``frozen=True``; its
        ``anonymize_unit`` maps [0, 1] frames (..., C, H, W) to f_A's output. Its
        ``trained_size`` attribute is :func:`trained_size_of` the config. With
        ``backend``, the runner instead.
    """
    from spact_mm.registry import MODELS

    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    pre_cfg = config.get('model', {}).get('data_preprocessor')
    if pre_cfg is None or not str(pre_cfg.get('type', '')).endswith('AnonymizerDataPreprocessor'):
        raise ValueError('config has no f_A: its model.data_preprocessor must be an '
                         f'AnonymizerDataPreprocessor, got {pre_cfg and pre_cfg.get("type")!r}')
    pre_cfg = copy.deepcopy(pre_cfg.to_dict() if hasattr(pre_cfg, 'to_dict') else dict(pre_cfg))
    pre_cfg.pop('_scope_', None)
    pre_cfg['type'] = 'AnonymizerDataPreprocessor'
    for key in _training_only_options():  # e.g. ssl_views, temporal_consistency, anchor_fidelity
        pre_cfg.pop(key, None)
    pre_cfg.update(frozen=True, return_raw=False)
    if checkpoint is not None:
        pre_cfg['checkpoint'] = checkpoint
    if device is None:
        device = 'cuda:0' if torch.cuda.is_available() else 'cpu'
    with DefaultScope.overwrite_default_scope('spact_mm'):
        anonymizer = MODELS.build(pre_cfg)
    anonymizer.trained_size = trained_size_of(config)
    recorded = trained_size_in_checkpoint(pre_cfg.get('checkpoint'))
    if recorded is not None and recorded != anonymizer.trained_size:
        print(f'note: {pre_cfg["checkpoint"]} was trained on frames of short side {recorded} '
              f'(its recorded config), the config says {anonymizer.trained_size}; using '
              f'{recorded} as f_A\'s default working size', file=sys.stderr)
        anonymizer.trained_size = recorded
    anonymizer = anonymizer.to(device).eval()
    if backend is None:
        return anonymizer
    from .backends import build_anonymizer_runner
    return build_anonymizer_runner(anonymizer, backend, **backend_kwargs)


#: Where a config's frame size is read from, first found first (see :func:`trained_size_of`).
_PIPELINE_KEYS = ('val_pipeline', 'test_pipeline', 'train_pipeline')


def trained_size_of(config: Union[str, Path, Config]) -> Optional[int]:
    """The short side (pixels) of the frames f_A was trained on, as the config records it.

    Read from the config's ``val_pipeline`` (else ``test_pipeline``, else
    ``train_pipeline``, else the val dataloader's pipeline): the last mmaction2
    ``Resize`` sets the scale f_A sees. ``Resize(scale=(W, H), keep_ratio=False)``
    gives ``min(W, H)``; ``scale=(-1, S)`` or ``(S, -1)`` gives ``S``; a
    ``keep_ratio=True`` tuple ``(long, short)`` gives its smaller value. Crops
    after the resize cut the frame but keep its scale, so they do not count.
    (The paper configs: ``Resize(-1, 128)`` + 112 crops -> 128; the synthetic
    demo: ``Resize((32, 32))`` -> 32.)

    Returns:
        The short side, or ``None`` when no pipeline has a ``Resize`` with a scale.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    pipelines = [config.get(k) for k in _PIPELINE_KEYS]
    loader = config.get('val_dataloader') or {}
    pipelines.append((loader.get('dataset') or {}).get('pipeline'))
    for pipeline in pipelines:
        if not pipeline:
            continue
        resizes = [t for t in pipeline if isinstance(t, dict)
                   and str(t.get('type', '')).split('.')[-1] == 'Resize' and t.get('scale')]
        if not resizes:
            continue
        scale = resizes[-1]['scale']
        if isinstance(scale, (int, float)):  # a scale factor: no absolute size
            continue
        sides = [int(s) for s in scale if s is not None and s > 0]
        if sides:
            return min(sides)
    return None


def _literal(node: ast.AST):
    """The value of a config expression made of literals, lists, tuples, dicts and
    ``dict(...)`` calls; anything else raises ``ValueError``. (``ast.literal_eval``
    refuses ``dict(...)``, which mmengine's ``pretty_text`` writes.)"""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args:
        return {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}
    return ast.literal_eval(node)


def trained_size_in_checkpoint(checkpoint: Optional[str]) -> Optional[int]:
    """:func:`trained_size_of` the config a checkpoint records (mmengine writes the
    training config's text to ``meta['cfg']``), or ``None``.

    The text is parsed, never executed: only top-level assignments of the pipelines
    (and the val dataloader) made of literals and ``dict(...)`` are read, so a
    crafted checkpoint cannot run code here (as :func:`load_checkpoint_safely`
    guarantees for the weights).
    """
    if not checkpoint or not osp.isfile(str(checkpoint)):
        return None
    from spact_mm.utils import load_checkpoint_safely

    try:
        text = (load_checkpoint_safely(str(checkpoint)).get('meta') or {}).get('cfg')
        tree = ast.parse(text) if isinstance(text, str) else None
    except (RuntimeError, SyntaxError, ValueError, AttributeError):
        return None
    if tree is None:
        return None
    values = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name) and \
                stmt.targets[0].id in (*_PIPELINE_KEYS, 'val_dataloader'):
            try:
                values[stmt.targets[0].id] = _literal(stmt.value)
            except (ValueError, TypeError, SyntaxError):
                continue
    return trained_size_of(Config(values)) if values else None


def _size_divisor(anonymizer) -> int:
    if hasattr(anonymizer, 'size_divisor'):
        return int(anonymizer.size_divisor)
    return int(getattr(anonymizer.anonymizer, 'size_divisor', 1))


def _clip_level(anonymizer) -> bool:
    if hasattr(anonymizer, 'clip_level'):
        return bool(anonymizer.clip_level)
    return is_clip_level(anonymizer.anonymizer)


def _device(anonymizer) -> torch.device:
    if isinstance(getattr(anonymizer, 'device', None), torch.device):
        return anonymizer.device
    return device_of(anonymizer.anonymizer)


@torch.no_grad()
def anonymize_frames(anonymizer, frames: np.ndarray, batch_size: int = 16, *,
                     as_clip: bool = False) -> np.ndarray:
    """Anonymize RGB uint8 frames with f_A, ``batch_size`` frames per forward pass.

    Frames whose height or width is not a multiple of f_A's size divisor (a UNet
    halves the resolution ``num_stages - 1`` times) are edge-padded for f_A and
    cropped back, so the output has the input's size.

    Args:
        anonymizer: The result of :func:`init_anonymizer`, or a runner of
            :mod:`spact_mm.apis.backends` (``torch`` / ``onnxruntime`` backend).
        frames: (T, H, W, 3) or (H, W, 3) uint8 RGB frames.
        batch_size: Frames per forward pass (a per-frame f_A).
        as_clip: The frames are consecutive frames of one video: a clip-level f_A
            (BDQ, motion-only) gets them as one clip (N=1, T frames), so its output
            at a frame depends on its neighbours. Without it (the default), a
            clip-level f_A sees every frame as a one-frame clip (a still: no
            motion). A per-frame f_A gives the same result either way.

    Returns:
        f_A(frames) as uint8, same shape as ``frames``.
    """
    frames = np.asarray(frames)
    if frames.ndim == 3:
        return anonymize_frames(anonymizer, frames[None], batch_size, as_clip=as_clip)[0]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f'expected (T, H, W, 3) RGB frames, got shape {frames.shape}')
    h, w = frames.shape[1:3]
    div = _size_divisor(anonymizer)
    pad_h, pad_w = -h % div, -w % div
    device = _device(anonymizer)

    # On the CPU the conversions run in numpy: a small torch elementwise op enters an
    # OpenMP parallel region, which cost ~8 ms per 640x480 frame on 2 loaded cores
    # against 0.2-0.7 ms single-threaded (docs/benchmark.md, section 5).
    on_cpu = device.type == 'cpu'
    # A runner that takes contiguous NCHW (ONNX Runtime, OpenVINO) gets it from one
    # transposing ufunc pass over the uint8 frames: 1.2 ms per 640x480 frame, against 6 ms
    # for converting channels-last first and copying to NCHW after (an ad hoc timing,
    # docs/benchmark.md, "The camera f_A on AVX-512").
    nchw = on_cpu and getattr(anonymizer, 'channels_last', True) is False

    def unit(chunk: np.ndarray) -> torch.Tensor:
        if nchw:
            unit8 = np.empty((len(chunk), 3, h, w), np.float32)
            np.divide(chunk.transpose(0, 3, 1, 2), np.float32(255.), out=unit8)
            x = torch.from_numpy(unit8)
        elif on_cpu:
            unit8 = chunk.astype(np.float32) / np.float32(255.)
            x = torch.from_numpy(unit8.transpose(0, 3, 1, 2))  # NCHW view of NHWC: channels-last
        else:
            x = torch.from_numpy(np.ascontiguousarray(chunk)).to(device)
            x = x.permute(0, 3, 1, 2).float().div_(255.)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
        return x

    def to_uint8(y: torch.Tensor) -> np.ndarray:
        """round(clamp(y, 0, 1) * 255) as uint8 (N, H, W, C)."""
        y = y[..., :h, :w]
        if y.device.type == 'cpu':
            a = np.clip(y.numpy(), 0, 1) * np.float32(255.)
            u = np.round(a, out=a).astype(np.uint8)
            if u.shape[1] == 3 and u.flags.c_contiguous:  # NCHW (ONNX Runtime): interleave
                return np.stack([cv2.merge(list(f)) for f in u])  # 3x numpy's speed (ad hoc)
            return u.transpose(0, 2, 3, 1)
        y = y.clamp(0, 1).mul_(255).round_()
        return y.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

    if as_clip and _clip_level(anonymizer):
        clip = unit(frames).transpose(0, 1)[None]  # (1, C, T, H, W)
        return to_uint8(anonymizer.anonymize_unit_clips(clip)[0].transpose(0, 1))
    out = np.empty_like(frames, dtype=np.uint8)
    for i in range(0, len(frames), batch_size):
        out[i:i + batch_size] = to_uint8(anonymizer.anonymize_unit(unit(frames[i:i + batch_size])))
    return out


# ----------------------------------------------------------------------------- streaming
def working_size(height: int, width: int, trained_size: Optional[int] = None,
                 scale: Optional[float] = None,
                 max_size: Optional[int] = None) -> Tuple[int, int]:
    """(H, W) at which f_A runs on ``height`` x ``width`` frames (aspect ratio kept).

    The scale factor is ``scale`` if given, else ``trained_size / min(H, W)``
    (f_A sees objects at the scale it was trained at, see
    :func:`trained_size_of`), else 1 (full resolution); then it is lowered so
    that the longer side is at most ``max_size``.
    """
    if scale is not None and not scale > 0:
        raise ValueError(f'scale must be > 0, got {scale}')
    if max_size is not None and max_size < 1:
        raise ValueError(f'max_size must be >= 1, got {max_size}')
    s = scale if scale is not None else (trained_size / min(height, width)
                                         if trained_size else 1.0)
    if max_size is not None and max(height, width) * s > max_size:
        s = max_size / max(height, width)
    return max(1, round(height * s)), max(1, round(width * s))


def _resize(frames: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize (T, H, W, 3) uint8 frames to ``size`` (H, W) with OpenCV: area averaging
    to shrink (no aliasing), bilinear to enlarge."""
    h, w = size
    if frames.shape[1:3] == (h, w):
        return frames
    shrink = h * w < frames.shape[1] * frames.shape[2]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in frames])


class FrameStream:
    """Anonymize a video chunk by chunk, with the result f_A gives on the whole video.

    Feed consecutive uint8 RGB frames with :meth:`__call__`, in chunks of any
    length, and call :meth:`flush` at the end. Memory is bounded by one chunk:
    nothing of earlier chunks is kept except, for a clip-level f_A, the last
    frame of the previous chunk.

    - **Working size.** Frames are resized to ``size`` (:func:`working_size`)
      for f_A, and f_A's output back to the input size.
    - **Per-frame f_A** (UNet, Downsample, ...): each chunk is a batch of frames.
    - **Clip-level f_A** (``clip_level = True``: BDQ, motion-only): each chunk
      is one clip, preceded by the previous chunk's last frame (one frame of
      temporal overlap, whose output is dropped), so that the frame
      difference at a chunk border is the one of the whole video. The first
      clip needs two frames (frame 0 of a frame difference with
      ``first_frame='repeat'`` copies frame 1's), so a lone first frame is held
      until the next chunk. ``first_frame='wrap'`` (frame 0 from the *last*
      frame) cannot be streamed: a second chunk is refused.
      A quantizer whose range comes from the clip (BDQ ``normalize='clip'``)
      would depend on the chunk borders; the runners of
      :func:`spact_mm.apis.backends.build_anonymizer_runner` have a fixed range
      (``normalize='fixed'``).

    - **Bounded forward passes.** One forward pass holds at most ``max_pixels``
      frame pixels at f_A's size (at least one frame, plus the overlap frame of a
      clip-level f_A): a chunk of large frames is split, so f_A's activations
      stay bounded however large ``batch_size`` is (the split changes no output).

    Args:
        anonymizer: ``init_anonymizer``'s result or a runner (:mod:`~spact_mm.apis.backends`).
        input_size: (H, W) of the frames fed.
        size: (H, W) at which f_A runs (default: ``input_size``).
        batch_size: Frames per forward pass of a per-frame f_A (see ``max_pixels``).
        max_pixels: Frame pixels per forward pass (default: one 1920x1080 frame).
    """

    def __init__(self, anonymizer, input_size: Tuple[int, int],
                 size: Optional[Tuple[int, int]] = None, batch_size: int = 16,
                 max_pixels: int = 1920 * 1080) -> None:
        self.anonymizer = anonymizer
        self.input_size = tuple(input_size)
        self.size = tuple(size or input_size)
        per_pass = max(1, max_pixels // (self.size[0] * self.size[1]))
        self.batch_size = max(1, min(batch_size, per_pass))
        self.clip_frames = per_pass  # new frames per clip of a clip-level f_A
        self.clip_level = _clip_level(anonymizer)
        module = getattr(anonymizer, 'module', getattr(anonymizer, 'anonymizer', None))
        self.wrap = getattr(module, 'first_frame', None) == 'wrap' or (
            getattr(anonymizer, 'meta', {}).get('first_frame') == 'wrap')
        self._context: Optional[np.ndarray] = None  # previous chunk's last frame (f_A size)
        self._held: Optional[np.ndarray] = None  # a lone first frame (clip-level)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """Anonymize the next ``frames`` (B, H, W, 3) uint8; returns the frames ready
        (fewer than given only while a lone first frame of a clip-level f_A waits)."""
        if frames.shape[1:3] != self.input_size:
            raise ValueError(f'frames of size {frames.shape[1:3]} fed to a stream of '
                             f'{self.input_size}')
        x = _resize(frames, self.size)
        if not self.clip_level:
            return self._back(anonymize_frames(self.anonymizer, x, self.batch_size))
        if len(x) > self.clip_frames:
            # bounded clips; their overlap keeps the whole-video result (wrap: refused below)
            return np.concatenate([self._clip(x[i:i + self.clip_frames])
                                   for i in range(0, len(x), self.clip_frames)])
        return self._clip(x)

    def _clip(self, x: np.ndarray) -> np.ndarray:
        """Anonymize the next frames ``x`` (at f_A's size) of a clip-level f_A."""
        if self._held is not None:
            x, self._held = np.concatenate([self._held, x]), None
        elif self._context is None and len(x) == 1:
            self._held = x
            return np.empty((0, *self.input_size, 3), np.uint8)
        if self._context is not None:
            if self.wrap:
                raise ValueError("a clip-level f_A with first_frame='wrap' takes frame 0 from "
                                 'the last frame of the video and cannot be streamed; use a '
                                 "chunk as long as the video, or first_frame='repeat'")
            y = anonymize_frames(self.anonymizer, np.concatenate([self._context, x]),
                                 as_clip=True)[1:]
        else:
            y = anonymize_frames(self.anonymizer, x, as_clip=True)
        self._context = x[-1:].copy()
        return self._back(y)

    def flush(self) -> np.ndarray:
        """The frames still held (a one-frame video of a clip-level f_A: no motion)."""
        if self._held is None:
            return np.empty((0, *self.input_size, 3), np.uint8)
        held, self._held = self._held, None
        self._context = held[-1:].copy()
        return self._back(anonymize_frames(self.anonymizer, held, as_clip=True))

    def _back(self, y: np.ndarray) -> np.ndarray:
        return _resize(y, self.input_size)


def _streaming_runner(anonymizer):
    """A runner for streaming: ``anonymizer`` itself if it is one, else the torch backend."""
    if hasattr(anonymizer, 'backend'):
        return anonymizer
    from .backends import build_anonymizer_runner
    return build_anonymizer_runner(anonymizer, 'torch')


# ----------------------------------------------------------------------------- video i/o
class _Video:
    """A video opened with decord, or with OpenCV when decord cannot open it."""

    def __init__(self, path: str) -> None:
        self.path = path
        if not osp.isfile(path):
            raise VideoReadError(f'{path}: no such file')
        errors = []
        try:
            import decord
            self._vr = decord.VideoReader(path, num_threads=1)
            self.backend = 'decord'
            self.num_frames = len(self._vr)
            self.fps = float(self._vr.get_avg_fps())
            self.height, self.width = self._vr[0].shape[:2]
            self._vr.seek(0)
        except Exception as e:  # decord raises its own DECORDError and RuntimeErrors
            errors.append(f'decord: {e}'.splitlines()[0])
            self._vr = None
        if self._vr is None:
            cap = cv2.VideoCapture(path)
            ok, first = cap.read() if cap.isOpened() else (False, None)
            if not ok:
                errors.append('OpenCV: cannot open or decode')
                raise VideoReadError(f'cannot read video {path} ({"; ".join(errors)})')
            self._cv, self._first = cap, first
            self.backend = 'opencv'
            self.num_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))  # may be an estimate
            self.fps = float(cap.get(cv2.CAP_PROP_FPS))
            self.height, self.width = first.shape[:2]
        if self.num_frames <= 0 or not self.fps > 0:
            raise VideoReadError(f'cannot read video {path}: {self.num_frames} frames at '
                                 f'{self.fps} fps')

    def batches(self, size: int) -> Iterator[np.ndarray]:
        """Yield (B, H, W, 3) uint8 RGB frames, ``size`` at a time, in order.

        Decoded sequentially with OpenCV's ``VideoCapture`` even when decord opened
        the file: its memory stays flat however long the video, whereas decord's
        ``get_batch`` / ``next`` grew the resident memory with every frame read
        (13-29 MB over 1200 frames of 128x96, decord 0.6.0; OpenCV 0.1-0.3 MB;
        docs/benchmark.md, section 5). decord still gives the frame count the
        container declares (to report truncated files) and random access
        (:meth:`frames_at`); it decodes only if OpenCV cannot open the file.
        """
        try:
            cap, frame = self._sequential()
            if cap is None:  # OpenCV cannot open it: decord, batch by batch
                for i in range(0, self.num_frames, size):
                    idx = list(range(i, min(i + size, self.num_frames)))
                    yield self._vr.get_batch(idx).asnumpy()
                    gc.collect(0)  # decord's arrays are freed by the cycle collector
                return
            batch = []
            while frame is not None:
                batch.append(frame[..., ::-1])
                if len(batch) == size:
                    yield np.stack(batch)
                    batch = []
                ok, frame = cap.read()
                frame = frame if ok else None
            if batch:
                yield np.stack(batch)
        except VideoReadError:
            raise
        except Exception as e:
            raise VideoReadError(f'cannot decode video {self.path}: {e}') from e

    def _sequential(self):
        """An OpenCV capture at frame 0 and its first frame, or ``(None, None)``."""
        if self.backend == 'opencv' and self._first is not None:
            first, self._first = self._first, None
            return self._cv, first
        cap = cv2.VideoCapture(self.path)
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            cap.release()
            if self.backend == 'opencv':
                raise VideoReadError(f'cannot decode video {self.path} a second time')
            return None, None
        return cap, first

    def frames_at(self, indices: List[int]) -> np.ndarray:
        """(len(indices), H, W, 3) uint8 RGB frames at the given positions."""
        if self.backend == 'decord':
            try:
                return self._vr.get_batch(list(indices)).asnumpy()
            except Exception as e:
                raise VideoReadError(f'cannot decode video {self.path}: {e}') from e
        wanted, got, pos = set(indices), {}, 0
        for batch in self.batches(64):
            for frame in batch:
                if pos in wanted:
                    got[pos] = frame
                pos += 1
        last = got[max(got)] if got else None
        return np.stack([got.get(i, last) for i in indices])


def output_path_for(video: str, out: str) -> str:
    """Where the anonymized ``video`` goes: ``out`` itself if it names a video
    file, else ``out/<name>`` (with ``.mp4`` for containers OpenCV does not write)."""
    if Path(out).suffix.lower() in WRITE_FOURCC:
        return out
    name = Path(video).name
    if Path(name).suffix.lower() not in WRITE_FOURCC:
        name = Path(name).stem + '.mp4'
    return osp.join(out, name)


def _same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one file: after resolving symlinks, or
    as two hard links to one inode."""
    if osp.realpath(a) == osp.realpath(b):
        return True
    try:
        return osp.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (symlinks resolved)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_paths(videos: List[str], targets: List[str], source: str, out: str) -> None:
    """Refuse outputs that would overwrite an input, before anything is written.

    Refused: an output folder that is the input folder or lies inside it; an
    output that resolves to any input (the same path, through a symlink, or a
    hard link to it); two inputs written to one output.

    Raises:
        OutputPathError: Naming the output and the input it would destroy.
    """
    if osp.isdir(source) and _inside(out, source):
        raise OutputPathError(f'refusing --out {out}: it is the input folder {source} or '
                              f'lies inside it; anonymized videos would replace or mix with '
                              f'the inputs. Choose a folder outside {source}')
    seen: Dict[str, str] = {}
    for video, target in zip(videos, targets):
        for other in videos:
            if _same_file(target, other):
                raise OutputPathError(f'refusing to write {target}: it is the input video '
                                      f'{other}; choose another --out')
        key = osp.realpath(target)
        if key in seen:
            raise OutputPathError(f'refusing to write {target} twice: both {seen[key]} and '
                                  f'{video} would be written there')
        seen[key] = video


def anonymize_video(anonymizer,
                    video: str,
                    out: str,
                    batch_size: int = 16,
                    side_by_side: bool = False,
                    progress: bool = True,
                    allow_truncated: bool = False,
                    *,
                    scale: Optional[float] = None,
                    max_size: Optional[int] = None) -> Dict:
    """Anonymize a video file and write the result, streaming in bounded chunks.

    The output has the input's frame count, frame rate and size (twice the
    width with ``side_by_side``: raw on the left, anonymized on the right).
    Frames are decoded, anonymized and encoded ``batch_size`` at a time
    (:class:`FrameStream`), so memory does not grow with the video's length;
    the output equals f_A on the whole video, for per-frame and clip-level f_A.

    Args:
        anonymizer: The result of :func:`init_anonymizer` (run with the fused,
            channels-last ``torch`` backend), or a runner of
            :mod:`spact_mm.apis.backends` (e.g. ``onnxruntime``).
        video: Any file decord or OpenCV reads (mp4, avi, mkv, ...).
        out: Output video path (.mp4, .avi, .mkv, .mov, .m4v).
        batch_size: Frames per chunk (decode, forward pass of f_A, encode), at
            most :data:`MAX_CHUNK_PIXELS` frame pixels (one 1080p frame): the
            chunk's buffers stay bounded for large frames (the output does
            not depend on the chunk).
        side_by_side: Write raw|anonymized next to each other.
        progress: Show a progress bar (on stderr).
        allow_truncated: Keep the output of a video that ends before the frame
            count its container declares (default: refuse it).
        scale: Run f_A on frames resized by this factor (1: full resolution).
        max_size: Run f_A with the longer side at most this many pixels.
            With neither, f_A runs at the size it was trained at
            (``anonymizer.trained_size``, the short side of
            :func:`trained_size_of`), or at full resolution when unknown.
            f_A's output is resized back to the input size (:func:`working_size`).

    The output is written under a temporary name beside ``out``
    (:func:`spact_mm.utils.checkpoint.atomic_output`) and renamed to ``out``
    only when complete, so a failure or a kill never leaves a partial video
    under ``out`` nor replaces an earlier one.

    Returns:
        ``dict(input, output, frames, declared_frames, truncated, fps, width,
        height, working_width, working_height, backend, seconds,
        frames_per_second)``; ``frames`` were read and written,
        ``declared_frames`` is the container's count; ``frames_per_second`` is
        the throughput of decode + f_A + encode.

    Raises:
        VideoReadError: If the video cannot be opened or decoded (names the file).
        TruncatedVideoError: If it ended early and ``allow_truncated`` is False.
        OutputPathError: If ``out`` is the input video (also through a link).
    """
    from spact_mm.utils.checkpoint import atomic_output

    start = time.perf_counter()
    if _same_file(out, video):
        raise OutputPathError(f'refusing to write {out}: it is the input video {video}')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    src = _Video(video)
    suffix = Path(out).suffix.lower()
    if suffix not in WRITE_FOURCC:
        raise ValueError(f'cannot write {out}: use one of {sorted(WRITE_FOURCC)}')
    runner = _streaming_runner(anonymizer)
    size = working_size(src.height, src.width, getattr(runner, 'trained_size', None), scale,
                        max_size)
    chunk = max(1, min(batch_size, MAX_CHUNK_PIXELS // (src.height * src.width)))
    stream = FrameStream(runner, (src.height, src.width), size, batch_size)
    if stream.clip_level and stream.wrap:  # one chunk, or refused: no cap
        chunk = batch_size
    if stream.clip_level and stream.wrap and src.num_frames > chunk:
        raise ValueError(f"{video}: a clip-level f_A with first_frame='wrap' cannot be streamed "
                         f'({src.num_frames} frames in chunks of {chunk}); pass a '
                         'batch size as long as the video')
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    width = src.width * (2 if side_by_side else 1)
    # tqdm, not mmengine's ProgressBar: that one counts "tasks", here the unit is frames.
    bar = tqdm(total=src.num_frames, unit='frame', file=sys.stderr, desc=Path(video).name,
               leave=True) if progress else None
    count = 0
    # OpenCV picks the container from the extension: the temporary name keeps it.
    with atomic_output(out, tmp_suffix='.tmp' + suffix) as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*WRITE_FOURCC[suffix]), src.fps,
                                 (width, src.height))
        if not writer.isOpened():
            raise OSError(f'OpenCV cannot write {out}')
        pending: List[np.ndarray] = []  # raw frames whose output is not out yet (side by side)

        def write(raw: np.ndarray, anon: np.ndarray) -> None:
            if side_by_side:
                anon = np.concatenate([raw, anon], axis=2)
            for frame in anon:
                writer.write(np.ascontiguousarray(frame[..., ::-1]))

        try:
            for frames in src.batches(chunk):
                anon = stream(frames)
                if side_by_side:
                    pending.append(frames)
                    raw = np.concatenate(pending)
                    write(raw[:len(anon)], anon)
                    pending = [raw[len(anon):]]
                else:
                    write(frames, anon)
                count += len(frames)
                if bar is not None:
                    faces = getattr(getattr(runner, 'module', None), 'faces_found', None)
                    if faces is not None:  # a face f_A: faces found so far (tqdm: frames/s)
                        bar.set_postfix(faces=faces, refresh=False)
                    bar.update(len(frames))
            rest = stream.flush()
            if len(rest):
                write(np.concatenate(pending) if side_by_side else rest, rest)
        finally:
            writer.release()
            if bar is not None:
                bar.close()
        if count < src.num_frames and not allow_truncated:
            raise TruncatedVideoError(
                f'{video} ended early: read {count} of the {src.num_frames} frames its '
                f'container declares (truncated or damaged file); nothing written to {out}. '
                f'Pass --allow-truncated (allow_truncated=True) to keep the {count} frames')
        if count == 0 or os.path.getsize(tmp) == 0:
            raise OSError(f'OpenCV wrote nothing for {out}')
    seconds = time.perf_counter() - start
    return dict(input=video, output=out, frames=count, declared_frames=src.num_frames,
                truncated=count < src.num_frames, fps=src.fps, width=src.width,
                height=src.height, working_width=size[1], working_height=size[0],
                backend=runner.backend, seconds=seconds,
                frames_per_second=count / max(seconds, 1e-9))


def find_videos(folder: str) -> List[str]:
    """Video files under ``folder`` (recursively, by extension), sorted."""
    return sorted(str(p) for p in Path(folder).rglob('*')
                  if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def anonymize_videos(anonymizer,
                     source: str,
                     out: str,
                     batch_size: int = 16,
                     side_by_side: bool = False,
                     progress: bool = True,
                     logger=print,
                     allow_truncated: bool = False,
                     *,
                     scale: Optional[float] = None,
                     max_size: Optional[int] = None) -> Tuple[List[Dict], List[Tuple[str, str]]]:
    """Anonymize one video file, or every video in a folder (keeping sub-folders).

    A video that cannot be read, or that ended early, does not stop the others:
    its error is logged and returned. Outputs that would overwrite an input
    stop the whole run before anything is written (:func:`check_output_paths`).

    Args:
        anonymizer: The result of :func:`init_anonymizer`.
        source: A video file or a folder of videos.
        out: For a file, an output video path or a folder; for a folder, a folder.
        batch_size, side_by_side, progress, allow_truncated, scale, max_size: See
            :func:`anonymize_video`.
        logger: Called with one line per video.

    Returns:
        ``(results, failures)``: :func:`anonymize_video`'s dicts, and
        ``(path, message)`` for each video that failed.

    Raises:
        OutputPathError: If an output would overwrite an input.
    """
    if osp.isdir(source):
        videos = find_videos(source)
        if not videos:
            raise FileNotFoundError(f'no video files ({", ".join(VIDEO_EXTENSIONS)}) '
                                    f'under {source}')
        targets = [output_path_for(v, osp.join(out, osp.relpath(osp.dirname(v), source)))
                   for v in videos]
    else:
        videos, targets = [source], [output_path_for(source, out)]
    check_output_paths(videos, targets, source, out)
    runner = _streaming_runner(anonymizer)  # built once for all the videos
    results, failures = [], []
    for video, target in zip(videos, targets):
        try:
            res = anonymize_video(runner, video, target, batch_size, side_by_side, progress,
                                  allow_truncated, scale=scale, max_size=max_size)
        except (VideoReadError, OSError, ValueError) as e:
            failures.append((video, str(e)))
            logger(f'FAILED {video}: {e}')
            continue
        results.append(res)
        logger(f'{video} -> {target}: {res["frames"]} frames, {res["width"]}x{res["height"]} '
               f'at {res["fps"]:.2f} fps (f_A at {res["working_width"]}x'
               f'{res["working_height"]}); {res["frames_per_second"]:.1f} frames/s')
        if res['truncated']:
            logger(f'WARNING {video} ended early: read {res["frames"]} of the '
                   f'{res["declared_frames"]} frames its container declares; written anyway '
                   f'(allow_truncated)')
    return results, failures


# ----------------------------------------------------------------------------- live input
def is_live_source(source: Union[str, int]) -> bool:
    """Whether ``source`` names a camera (an index such as ``0``) or a stream URL
    (``rtsp://``, ``http://``, ...) rather than a video file."""
    source = str(source)
    return source.isdigit() or '://' in source


class _StopOnSigint:
    """While active, the first Ctrl-C (SIGINT) only sets ``stop`` (the loop then ends
    cleanly); a second one raises ``KeyboardInterrupt`` as usual. Outside the main
    thread (where Python cannot install handlers) Ctrl-C is left as it is."""

    def __init__(self) -> None:
        self.stop = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        self.stop = True
        signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C interrupts

    def __enter__(self) -> '_StopOnSigint':
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> bool:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def anonymize_stream(anonymizer,
                     source: Union[str, int],
                     out: str,
                     batch_size: int = 1,
                     side_by_side: bool = False,
                     *,
                     scale: Optional[float] = None,
                     max_size: Optional[int] = None,
                     fps: Optional[float] = None,
                     max_frames: Optional[int] = None,
                     readout_every: float = 2.0,
                     logger=None) -> Dict:
    """Anonymize a live source (camera or stream) until it ends, ``max_frames``, or Ctrl-C.

    Frames are read with OpenCV's ``VideoCapture`` (a camera index, a stream URL
    or, standing in for a camera, a video file), anonymized ``batch_size`` at a
    time by :class:`FrameStream` and written as they come, so memory stays
    bounded however long it runs. Ctrl-C stops reading; the frames read so far
    are anonymized and the output file is closed and renamed into place
    (valid, complete up to the stop); a second Ctrl-C aborts without output.

    Args:
        anonymizer: As for :func:`anonymize_video`.
        source: Camera index (``0`` or ``'0'``), stream URL, or video file.
        out: Output video path (written atomically), or ``'-'``: raw ``bgr24``
            frames on standard output, for a pipe into e.g.
            ``ffmpeg -f rawvideo -pix_fmt bgr24 -s WxH -r FPS -i - ...`` (the
            exact command is logged).
        batch_size: Frames per chunk (latency grows with it; 1 for a camera).
        side_by_side: Write raw | anonymized side by side.
        scale, max_size: f_A's working size, see :func:`anonymize_video`.
        fps: Frame rate written to the output (default: the source's, else 25).
        max_frames: Stop after this many frames (``None``: until the source ends).
        readout_every: Seconds between frames-per-second readouts (0: none).
        logger: Called with each readout line (default: print to stderr).

    Returns:
        ``dict(input, output, frames, fps, width, height, working_width,
        working_height, backend, interrupted, seconds, frames_per_second)``.

    Raises:
        VideoReadError: If the source cannot be opened or gives no frame.
        OutputPathError: If ``out`` is the source file.
    """
    from spact_mm.utils.checkpoint import atomic_output

    if logger is None:
        def logger(line: str) -> None:
            print(line, file=sys.stderr, flush=True)
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    to_pipe = out == '-'
    if not to_pipe:
        if Path(out).suffix.lower() not in WRITE_FOURCC:
            raise ValueError(f'cannot write {out}: use one of {sorted(WRITE_FOURCC)} or "-"')
        if osp.exists(str(source)) and _same_file(out, str(source)):
            raise OutputPathError(f'refusing to write {out}: it is the input {source}')
    cap = cv2.VideoCapture(int(source) if str(source).isdigit() else str(source))
    ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        cap.release()
        raise VideoReadError(f'cannot open or read the camera or stream {source}')
    fps = fps or float(cap.get(cv2.CAP_PROP_FPS) or 0)
    if not fps > 0:
        fps = 25.0
    height, width = first.shape[:2]
    runner = _streaming_runner(anonymizer)
    size = working_size(height, width, getattr(runner, 'trained_size', None), scale, max_size)
    stream = FrameStream(runner, (height, width), size, batch_size)
    out_width = width * (2 if side_by_side else 1)
    count, pending, start = 0, [], time.perf_counter()
    last_readout, last_count = start, 0

    def frames_in() -> Iterator[np.ndarray]:
        """Chunks of ``batch_size`` RGB frames until the source ends or must stop."""
        frame, batch = first, []
        while frame is not None:
            batch.append(frame[..., ::-1])
            if len(batch) == batch_size:
                yield np.stack(batch)
                batch = []
            if sigint.stop or (max_frames is not None and count + len(batch) >= max_frames):
                break
            ok, frame = cap.read()
            frame = frame if ok else None
        if batch:
            yield np.stack(batch)

    def run(write) -> None:
        nonlocal count, pending, last_readout, last_count
        for frames in frames_in():
            anon = stream(frames)
            pending.append(frames)
            raw = np.concatenate(pending)
            write(raw[:len(anon)], anon)
            pending = [raw[len(anon):]]
            count += len(frames)
            now = time.perf_counter()
            if readout_every and now - last_readout >= readout_every:
                logger(f'{count} frames, {(count - last_count) / (now - last_readout):.1f} '
                       f'frames/s (f_A at {size[1]}x{size[0]}, {runner.backend})')
                last_readout, last_count = now, count
        rest = stream.flush()
        if len(rest):
            write(np.concatenate(pending), rest)

    def composed(raw: np.ndarray, anon: np.ndarray) -> np.ndarray:
        return np.concatenate([raw, anon], axis=2) if side_by_side else anon

    try:
        with _StopOnSigint() as sigint:
            if to_pipe:
                sink = sys.stdout.buffer
                logger(f'writing raw bgr24 frames to stdout; read them with: ffmpeg -f rawvideo '
                       f'-pix_fmt bgr24 -s {out_width}x{height} -r {fps:g} -i - out.mp4')

                def write_pipe(raw: np.ndarray, anon: np.ndarray) -> None:
                    sink.write(np.ascontiguousarray(composed(raw, anon)[..., ::-1]).tobytes())
                    sink.flush()

                run(write_pipe)
            else:
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                suffix = Path(out).suffix.lower()
                with atomic_output(out, tmp_suffix='.tmp' + suffix) as tmp:
                    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*WRITE_FOURCC[suffix]),
                                             fps, (out_width, height))
                    if not writer.isOpened():
                        raise OSError(f'OpenCV cannot write {out}')
                    try:
                        run(lambda raw, anon: [writer.write(np.ascontiguousarray(f[..., ::-1]))
                                               for f in composed(raw, anon)])
                    finally:
                        writer.release()
    finally:
        cap.release()
    seconds = time.perf_counter() - start
    return dict(input=str(source), output=out, frames=count, fps=fps, width=width,
                height=height, working_width=size[1], working_height=size[0],
                backend=runner.backend, interrupted=sigint.stop, seconds=seconds,
                frames_per_second=count / max(seconds, 1e-9))


def video_anonymization_grid(anonymizer, videos: List[str], num_frames: int = 6,
                             scale: int = 1) -> np.ndarray:
    """Raw-versus-anonymized grid of ``num_frames`` evenly spaced frames per video.

    Every video is one pair of rows (raw above f_A's output), drawn by
    :func:`spact_mm.visualization.anonymization_grid`; frames of later videos
    are resized to the first video's size.

    Returns:
        The grid as a uint8 RGB array.
    """
    from spact_mm.visualization import anonymization_grid

    raws, anons, size = [], [], None
    for path in videos:
        src = _Video(path)
        idx = np.unique(np.linspace(0, src.num_frames - 1, num_frames).round().astype(int))
        raw = src.frames_at(idx.tolist())
        anon = anonymize_frames(anonymizer, raw)
        if size is None:
            size = raw.shape[1:3]
        if raw.shape[1:3] != size:
            raw, anon = ([cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA)
                          for f in x] for x in (raw, anon))
        raws.append(torch.from_numpy(np.stack(raw)).permute(0, 3, 1, 2) / 255.)
        anons.append(torch.from_numpy(np.stack(anon)).permute(0, 3, 1, 2) / 255.)
    t = min(len(r) for r in raws)
    raw_t = torch.stack([r[:t] for r in raws])
    anon_t = torch.stack([a[:t] for a in anons])
    return anonymization_grid(raw_t, anon_t, num_clips=len(videos), num_frames=t, scale=scale)


# ------------------------------------------------------------------- recognition
#: Pipeline steps that open or decode a video file; a numpy clip replaces them.
_VIDEO_INIT_STEPS = ('DecordInit', 'OpenCVInit', 'PyAVInit')
_VIDEO_DECODE_STEPS = ('DecordDecode', 'OpenCVDecode', 'PyAVDecode', 'PyAVDecodeMotionVector')


def _array_pipeline(test_pipeline: List[dict]) -> List[dict]:
    """The test pipeline for a (T, H, W, 3) array: init steps dropped, the decode step
    replaced by mmaction2's ``ArrayDecode`` (frame sampling and the rest unchanged)."""
    steps = [copy.deepcopy(s) for s in test_pipeline if s['type'] not in _VIDEO_INIT_STEPS]
    decode = [i for i, s in enumerate(steps) if s['type'] in _VIDEO_DECODE_STEPS]
    if len(decode) != 1:
        raise ValueError('the test pipeline must decode videos with exactly one of '
                         f'{", ".join(_VIDEO_DECODE_STEPS)}; found {[s["type"] for s in steps]}')
    steps[decode[0]] = dict(type='ArrayDecode')
    return steps


def recognize(model: torch.nn.Module, video: Union[str, np.ndarray], top_k: int = 5) -> dict:
    """Action labels and scores of one video from a privacy-preserving recognizer.

    ``model`` is an mmaction2 recognizer whose ``data_preprocessor`` is an
    :class:`AnonymizerDataPreprocessor`, as ``mmaction.apis.init_recognizer`` builds it
    from a SPAct stage-2/3 config (f_A is part of that model) or from a config written by
    ``tools/deploy_anonymizer.py``. Give it **raw** video: f_A runs exactly once, in the
    model. (Anonymizing first, e.g. with :func:`anonymize_frames`, would run it twice.)
    The clip goes through the config's ``test_pipeline`` as mmaction2's
    ``inference_recognizer`` does; a numpy clip has its decode step replaced by
    mmaction2's ``ArrayDecode``.

    Args:
        model: The recognizer (``init_recognizer(config, checkpoint)``), in eval mode.
        video: A video file path, or a (T, H, W, 3) uint8 RGB clip.
        top_k: How many of the best classes to return.

    Returns:
        ``dict(labels, scores, classes, all_scores)``: the ``top_k`` class indices and
        their scores (softmax of the head, best first), their names when the config's
        dataset metainfo or ``dataset_classes`` has them (else ``None``), and the scores
        of every class (numpy, float32).

    Raises:
        TypeError: if the model has no f_A in front, or ``video`` is neither a path nor
            an array.
        ValueError: if the array is not (T, H, W, 3) uint8.
        FileNotFoundError: if the video file does not exist.
    """
    from mmaction.apis import inference_recognizer
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    from spact_mm.models.data_preprocessors import AnonymizerDataPreprocessor
    from spact_mm.utils.compat import get_pred_score

    if not isinstance(model.data_preprocessor, AnonymizerDataPreprocessor):
        raise TypeError(f'{type(model).__name__} has no f_A in front (its data_preprocessor is '
                        f'{type(model.data_preprocessor).__name__}); build it from a SPAct config '
                        'or one written by tools/deploy_anonymizer.py')
    cfg = model.cfg
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if isinstance(video, (str, Path)):
        if not osp.isfile(str(video)):
            raise FileNotFoundError(f'video not found: {video}')
        result = inference_recognizer(model, str(video))
    elif isinstance(video, np.ndarray):
        if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8:
            raise ValueError(f'a numpy clip must be (T, H, W, 3) uint8 RGB, got {video.shape} '
                             f'{video.dtype}')
        data = dict(array=video, total_frames=len(video), label=-1, start_index=0,
                    modality='RGB')
        result = inference_recognizer(model, data, Compose(_array_pipeline(cfg.test_pipeline)))
    else:
        raise TypeError(f'video must be a file path or a numpy clip, got {type(video).__name__}')
    scores = torch.as_tensor(get_pred_score(result)).float().cpu().numpy()
    order = np.argsort(-scores, kind='stable')[:top_k]
    names = _class_names(cfg)
    return dict(labels=order.tolist(), scores=scores[order].tolist(),
                classes=[names[i] for i in order] if names and len(names) == len(scores)
                else None, all_scores=scores)


def _class_names(cfg: Config) -> Optional[List[str]]:
    """Class names from ``dataset_classes`` or the test dataset's ``metainfo``, if any."""
    names = cfg.get('dataset_classes')
    if names is None:
        meta = (cfg.get('test_dataloader') or {}).get('dataset', {}).get('metainfo') or {}
        names = meta.get('classes')
    return list(names) if names is not None else None
