"""Baseline anonymizers of Sec. 5.2, usable wherever f_A is (e.g. as the
``anonymizer`` of :class:`AnonymizerDataPreprocessor`) and by name in
``tools/eval_protocol.py``.

Every baseline maps frames in [0, 1] of shape (B, C, H, W) to frames of the
same shape and range, has no trainable parameter, and is deterministic; the
clip-level ones (``clip_level = True``: motion-only, BDQ with fixed constants)
map clips (N, C, T, H, W) instead (apply any baseline with
:func:`~spact_mm.models.anonymizers.clip_utils.anonymize_clips`).

- Raw data: :class:`IdentityAnonymizer`.
- Downsample-2x / -4x: :class:`DownsampleAnonymizer` (down, then back up to
  the input size, in training and in testing).
- Obfuscation of detected persons by blackening, strong blur or weak blur:
  :class:`PersonObfuscationAnonymizer` with a pluggable person detector:
  :class:`HOGPersonDetector` (OpenCV's HOG + linear SVM people detector,
  shipped with OpenCV, no download) by default, or :class:`MMDetPersonDetector`
  for users with mmdet weights (the paper used a COCO YOLO). On data whose
  person boxes are known (the synthetic dataset), the oracle detector is the
  ground truth boxes: the pipeline transform ``ObfuscatePersons``
  (``spact_mm/datasets/transforms``) applies the same
  :func:`~spact_mm.structures.bbox.obfuscate_boxes` to them.
- Motion-only: :class:`MotionOnlyAnonymizer`, the grey difference of
  consecutive frames (a clip-level anonymizer), and ``'bdq-fixed'``, BDQ
  (:class:`~spact_mm.models.anonymizers.bdq.BDQEncoder`) untrained, with the
  released constants (5x5 blur with sigma 3, 4-bit uniform levels; hard
  quantizer, since the protocols run f_A in eval mode). On still images
  (one-frame clips) both give a constant grey frame: see
  :mod:`~spact_mm.models.anonymizers.clip_utils`.

The obfuscation itself (:mod:`spact_mm.structures.bbox`, below both models and
datasets) is hand-written: neither mmaction2 nor mmpretrain has a box-wise
blackening / blurring transform.
"""
import hashlib
from collections import OrderedDict
from typing import Dict, List, Optional, Union

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS
from spact_mm.structures.bbox import OBFUSCATION_MODES, obfuscate_boxes

from .clip_utils import FIRST_FRAME_MODES, frame_difference

#: Baselines by the names used in tables and on the command line; the
#: ``-oracle`` variants use ground-truth boxes (see module docstring).
BASELINES: Dict[str, dict] = {
    'raw': dict(type='IdentityAnonymizer'),
    'downsample-2x': dict(type='DownsampleAnonymizer', factor=2),
    'downsample-4x': dict(type='DownsampleAnonymizer', factor=4),
    'obf-blackening': dict(type='PersonObfuscationAnonymizer', mode='blacken'),
    'obf-strongblur': dict(type='PersonObfuscationAnonymizer', mode='strong_blur'),
    'obf-weakblur': dict(type='PersonObfuscationAnonymizer', mode='weak_blur'),
    'motion-only': dict(type='MotionOnlyAnonymizer'),
    'bdq-fixed': dict(type='BDQEncoder', learn_sigma=False, learn_levels=False),
}
#: Oracle obfuscation baselines: identity f_A + ``ObfuscatePersons`` on GT boxes.
ORACLE_BASELINES: Dict[str, str] = {
    'obf-blackening-oracle': 'blacken',
    'obf-strongblur-oracle': 'strong_blur',
    'obf-weakblur-oracle': 'weak_blur',
}


@MODELS.register_module()
class IdentityAnonymizer(nn.Module):
    """Raw data: f_A(x) = x."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the frames unchanged (a copy, so callers may modify it)."""
        return x.clone()


@MODELS.register_module()
class DownsampleAnonymizer(nn.Module):
    """Downsample-kx (Sec. 5.2): resize down by ``factor``, then back up.

    Args:
        factor: Downsampling factor (2 and 4 in Tables 1 and 2).
        down_mode: ``F.interpolate`` mode of the down step (``'area'``
            averages, avoiding aliasing).
        up_mode: Mode of the up step back to the input size.
    """

    def __init__(self, factor: int = 2, down_mode: str = 'area',
                 up_mode: str = 'bilinear') -> None:
        super().__init__()
        if factor < 1:
            raise ValueError(f'factor must be >= 1, got {factor}')
        self.factor = factor
        self.down_mode = down_mode
        self.up_mode = up_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> same shape, with 1/factor of the resolution."""
        h, w = x.shape[-2:]
        small = F.interpolate(x, size=(max(h // self.factor, 1), max(w // self.factor, 1)),
                              mode=self.down_mode)
        kw = dict(align_corners=False) if self.up_mode in ('bilinear', 'bicubic') else {}
        return F.interpolate(small, size=(h, w), mode=self.up_mode, **kw).clamp(0, 1)


@MODELS.register_module()
class MotionOnlyAnonymizer(nn.Module):
    """Motion-only: the grey difference of consecutive frames, shown as grey.

    A clip-level anonymizer (``clip_level = True``) with no parameter. For
    clips ``x`` (N, C, T, H, W) in [0, 1], with the luma
    ``g_t = 0.2989 R_t + 0.587 G_t + 0.114 B_t`` (ITU-R BT.601, torchvision's
    ``rgb_to_grayscale``; ``g = x`` for one channel):

        ``y_t = clamp(1/2 + gain * (g_t - g_{t-1}) / 2, 0, 1)``, repeated over C,

    so zero motion is mid-grey 0.5 and, at ``gain = 1``, no value is clipped.
    Frame 0 is as ``first_frame`` says (see
    :func:`~spact_mm.models.anonymizers.clip_utils.frame_difference`). A still
    image (one-frame clip) becomes a constant 0.5 frame.

    Args:
        gain: Contrast of the difference (values beyond [0, 1] are clipped).
        first_frame: ``'repeat'``, ``'zero'`` or ``'wrap'``.
    """

    clip_level = True

    def __init__(self, gain: float = 1.0, first_frame: str = 'repeat') -> None:
        super().__init__()
        if gain <= 0:
            raise ValueError(f'gain must be > 0, got {gain}')
        if first_frame not in FIRST_FRAME_MODES:
            raise ValueError(f'first_frame must be one of {FIRST_FRAME_MODES}, '
                             f'got {first_frame!r}')
        self.gain = float(gain)
        self.first_frame = first_frame

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) in [0, 1], C in {1, 3} -> same shape, grey motion."""
        if x.dim() != 5 or x.shape[1] not in (1, 3):
            raise ValueError('MotionOnlyAnonymizer is a clip-level f_A and expects clips '
                             f'(N, 1 or 3, T, H, W); got shape {tuple(x.shape)} (apply it '
                             'with anonymize_clips)')
        from torchvision.transforms.functional import rgb_to_grayscale

        grey = x if x.shape[1] == 1 else rgb_to_grayscale(x.movedim(1, 2)).movedim(2, 1)
        diff = frame_difference(grey, self.first_frame)
        return (0.5 + 0.5 * self.gain * diff).clamp(0, 1).expand_as(x).contiguous()


@MODELS.register_module()
class HOGPersonDetector:
    """OpenCV's HOG + linear SVM people detector (Dalal & Triggs), no download.

    The default detector window is 64x128 pixels, so small frames are upscaled
    (``upscale_to`` pixels on the longer side) before detection, and the boxes
    are mapped back.

    Args:
        upscale_to: Longer side the frame is resized to before detection
            (``None``: no resizing).
        hit_threshold: SVM score threshold (OpenCV's ``hitThreshold``).
        win_stride: Window stride in pixels of the upscaled frame.
        scale: Scale step of the image pyramid.
    """

    def __init__(self, upscale_to: Optional[int] = 256, hit_threshold: float = 0.0,
                 win_stride: int = 8, scale: float = 1.05) -> None:
        self.upscale_to = upscale_to
        self.hit_threshold = hit_threshold
        self.win_stride = win_stride
        self.scale = scale
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, frame: np.ndarray) -> List[List[float]]:
        """Person boxes ``[x1, y1, x2, y2]`` of an (H, W, 3) uint8 RGB frame."""
        h, w = frame.shape[:2]
        s = 1.0 if self.upscale_to is None else self.upscale_to / max(h, w)
        img = frame if s == 1.0 else cv2.resize(frame, (round(w * s), round(h * s)),
                                                interpolation=cv2.INTER_LINEAR)
        rects, _ = self.hog.detectMultiScale(
            np.ascontiguousarray(img[..., ::-1]), hitThreshold=self.hit_threshold,
            winStride=(self.win_stride, self.win_stride), padding=(16, 16), scale=self.scale)
        return [[x / s, y / s, (x + bw) / s, (y + bh) / s] for x, y, bw, bh in rects]


@MODELS.register_module()
class MMDetPersonDetector:
    """Person boxes from any mmdet detector (e.g. the COCO YOLO of the paper).

    Needs ``mmdet`` and the detector's weights, which this project does not
    ship. Imported lazily, so the rest of ``spact_mm`` works without mmdet.

    Args:
        config: mmdet config file of the detector.
        checkpoint: Its weights.
        score_thr: Minimum detection score.
        person_label: Class index of "person" (0 in COCO).
        device: Device of the detector.
    """

    def __init__(self, config: str, checkpoint: str, score_thr: float = 0.3,
                 person_label: int = 0, device: str = 'cpu') -> None:
        from mmdet.apis import init_detector  # optional dependency

        self.model = init_detector(config, checkpoint, device=device)
        self.score_thr = score_thr
        self.person_label = person_label

    def __call__(self, frame: np.ndarray) -> List[List[float]]:
        """Person boxes of an (H, W, 3) uint8 RGB frame."""
        from mmdet.apis import inference_detector

        inst = inference_detector(self.model, np.ascontiguousarray(frame[..., ::-1])).pred_instances
        keep = (inst.labels == self.person_label) & (inst.scores >= self.score_thr)
        return inst.bboxes[keep].cpu().tolist()


class CachedBoxDetector:
    """A box detector (a registered callable: (H, W, 3) uint8 RGB frame -> boxes) behind an
    LRU cache of its boxes, shared by the person and the face obfuscation f_A.

    Boxes are keyed by a hash of the frame's bytes (least recently used dropped
    first). Training a fresh model on obfuscated data sees the same decoded
    frames epoch after epoch, and the detectors are deterministic, so the cache
    changes no output, only the time. A small LRU map written here:
    ``functools.lru_cache`` cannot key on arrays.

    Args:
        detector: Config of the detector, or the detector object itself.
        cache_size: Number of frames whose boxes are remembered; 0 disables it.
    """

    def __init__(self, detector: Union[dict, object], cache_size: int = 200_000) -> None:
        if cache_size < 0:
            raise ValueError(f'cache_size must be >= 0, got {cache_size}')
        self.detector = MODELS.build(detector) if isinstance(detector, dict) else detector
        self.cache_size = int(cache_size)
        self._boxes: OrderedDict[bytes, List[List[float]]] = OrderedDict()
        self.cache_hits = 0

    def __call__(self, frame: np.ndarray) -> List[List[float]]:
        """The detector's boxes for one uint8 RGB frame, through the cache."""
        if self.cache_size == 0:
            return self.detector(frame)
        key = (str(frame.shape).encode()
               + hashlib.blake2b(np.ascontiguousarray(frame).tobytes(), digest_size=16).digest())
        boxes = self._boxes.get(key)
        if boxes is not None:
            self._boxes.move_to_end(key)
            self.cache_hits += 1
            return boxes
        boxes = [list(map(float, b)) for b in self.detector(frame)]
        self._boxes[key] = boxes
        if len(self._boxes) > self.cache_size:
            self._boxes.popitem(last=False)
        return boxes


@MODELS.register_module()
class PersonObfuscationAnonymizer(nn.Module):
    """Obf-Blackening / Obf-StrongBlur / Obf-WeakBlur (Sec. 5.2).

    Detects persons in every frame and blackens or blurs their boxes (see
    :func:`obfuscate_boxes`). Runs on the CPU in numpy; not differentiable.

    Args:
        mode: ``'blacken'``, ``'strong_blur'`` or ``'weak_blur'``.
        detector: Config of the person detector (a registered callable mapping
            an (H, W, 3) uint8 RGB frame to boxes), :class:`HOGPersonDetector`
            by default, or the detector object itself.
        cache_size: Number of frames whose boxes are remembered (see
            :class:`CachedBoxDetector`; HOG on a 32x32 frame upscaled to 256 px
            takes ~20 ms). 0 disables it.
    """

    def __init__(self, mode: str = 'blacken',
                 detector: Union[dict, object] = dict(type='HOGPersonDetector'),
                 cache_size: int = 200_000) -> None:
        super().__init__()
        if mode not in OBFUSCATION_MODES:
            raise ValueError(f'mode must be one of {list(OBFUSCATION_MODES)}, got {mode!r}')
        self.mode = mode
        self._cached = CachedBoxDetector(detector, cache_size)

    @property
    def detector(self):
        """The wrapped detector."""
        return self._cached.detector

    @property
    def cache_size(self) -> int:
        """Frames whose boxes are remembered."""
        return self._cached.cache_size

    @property
    def cache_hits(self) -> int:
        """Detections answered from the cache."""
        return self._cached.cache_hits

    @property
    def _boxes(self) -> 'OrderedDict[bytes, List[List[float]]]':
        """The cached boxes (the attribute's name before :class:`CachedBoxDetector`)."""
        return self._cached._boxes

    def detect(self, frame: np.ndarray) -> List[List[float]]:
        """The detector's boxes for one uint8 RGB frame, through the cache."""
        return self._cached(frame)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> same shape, persons obfuscated frame by frame."""
        frames = (x.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
        frames = frames.cpu().numpy()
        out = np.stack([obfuscate_boxes(f, self.detect(f), self.mode) for f in frames])
        return torch.from_numpy(out).to(x.device).permute(0, 3, 1, 2).to(x.dtype) / 255.


def build_baseline(name: str) -> dict:
    """Config of the baseline anonymizer called ``name`` (see :data:`BASELINES`)."""
    if name not in BASELINES:
        raise KeyError(f'unknown baseline {name!r}; choose from '
                       f'{sorted(BASELINES) + sorted(ORACLE_BASELINES)}')
    return dict(BASELINES[name])
