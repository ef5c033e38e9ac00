"""Face anonymization f_A: change who a person is, keep what they do.

A pixel-space f_A after Ren, Lee and Ryoo, "Learning to Anonymize Faces for
Privacy Preserving Action Detection" (ECCV 2018): a face detector gives the
face boxes of every frame, a modifier network M rewrites each face crop, and
the result is blended back with a feathered mask. Every pixel outside the
face boxes is returned unchanged, bit for bit.

- :class:`FaceAnonymizer`: the learned modifier M (:class:`FaceModifier`, a
  small residual encoder-decoder initialised to the identity). It is trained
  against the identity discriminator D
  (:class:`~spact_mm.models.heads.face_identity.FaceIdentityHead`) and an action
  recognizer f_T in the minimax loop of :class:`MinimaxOptimWrapper` (step 1
  updates M, step 2 updates D and f_T); see ``configs/face``. The paper
  trained against a spatial action *detector*; we use mmaction2 action
  *recognition*, and the training recipe here is our own design from the
  paper's description (the authors released inference code only).
- :class:`FaceObfuscationAnonymizer`: the hand-crafted comparisons of the
  paper as anonymizers: face blur, pixelation, masking (blackening) and noise.

Face boxes come from, in order of precedence: boxes passed to ``forward``
(ground-truth boxes of the synthetic face benchmark, handed over by
:class:`~spact_mm.models.data_preprocessors.face_preprocessor.FaceAnonymizerDataPreprocessor`),
else a pluggable detector: :class:`HaarFaceDetector` (OpenCV's frontal-face
Haar cascade, shipped inside opencv-python, no download) by default, or
:class:`MMDetFaceDetector` for users with mmdet weights. Detections go
through :class:`FaceTracker`, which keeps a face that the detector missed for
a few frames covered, and counts those misses.

The box-wise blending, the tracker and the baselines' region operations are
hand-written: neither OpenCV, mmaction2, mmpretrain nor mmdet offers a
differentiable crop-modify-paste of boxes. Detection caching is shared with
the person-obfuscation baseline (:class:`CachedBoxDetector`).
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS

from .baselines import CachedBoxDetector, MMDetPersonDetector

Box = Tuple[int, int, int, int]
#: Per-frame boxes: one list of ``[x1, y1, x2, y2]`` (pixels, x2/y2 exclusive) per frame.
FrameBoxes = Sequence[Sequence[Sequence[float]]]

#: Face baselines by the names used in tables and on the command line.
FACE_BASELINES: Dict[str, dict] = {
    'face-blur': dict(type='FaceObfuscationAnonymizer', mode='blur'),
    'face-pixelate': dict(type='FaceObfuscationAnonymizer', mode='pixelate'),
    'face-mask': dict(type='FaceObfuscationAnonymizer', mode='mask'),
    'face-noise': dict(type='FaceObfuscationAnonymizer', mode='noise'),
}
FACE_OBFUSCATION_MODES = ('blur', 'pixelate', 'mask', 'noise')


# ----------------------------------------------------------------------------- detectors
@MODELS.register_module()
class HaarFaceDetector:
    """OpenCV's Viola-Jones Haar cascade for frontal faces (ships with opencv-python).

    Args:
        cascade: File name under ``cv2.data.haarcascades`` or a path.
        scale_factor: Scale step of the image pyramid (``detectMultiScale``).
        min_neighbors: Neighbouring detections needed to keep a face.
        min_size: Smallest face side in pixels of the frame given.
        upscale_to: Resize the frame so that its longer side has this many
            pixels before detection, if it is smaller (the cascade's window is
            24 px); boxes are mapped back. ``None``: never resize.
    """

    def __init__(self, cascade: str = 'haarcascade_frontalface_default.xml',
                 scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 16,
                 upscale_to: Optional[int] = 192) -> None:
        import os.path as osp

        self.path = cascade if osp.isfile(cascade) else osp.join(cv2.data.haarcascades, cascade)
        self._load()
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.upscale_to = upscale_to

    def _load(self) -> None:
        self.classifier = cv2.CascadeClassifier(self.path)
        if self.classifier.empty():
            raise FileNotFoundError(f'cannot load the Haar cascade {self.path}')

    def __getstate__(self) -> dict:
        """Picklable state (copies, DataLoader workers): the cascade is reloaded from its file."""
        return {k: v for k, v in self.__dict__.items() if k != 'classifier'}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._load()

    def __call__(self, frame: np.ndarray) -> List[List[float]]:
        """Face boxes ``[x1, y1, x2, y2]`` of an (H, W, 3) uint8 RGB frame."""
        h, w = frame.shape[:2]
        s = 1.0
        if self.upscale_to is not None and max(h, w) < self.upscale_to:
            s = self.upscale_to / max(h, w)
        grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        if s != 1.0:
            grey = cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
        ms = max(1, int(round(self.min_size * s)))
        rects = self.classifier.detectMultiScale(grey, scaleFactor=self.scale_factor,
                                                 minNeighbors=self.min_neighbors,
                                                 minSize=(ms, ms))
        return [[x / s, y / s, (x + bw) / s, (y + bh) / s] for x, y, bw, bh in rects]


@MODELS.register_module()
class MMDetFaceDetector(MMDetPersonDetector):
    """Face boxes from any mmdet face detector (e.g. a RetinaFace or the SSH of the paper).

    :class:`MMDetPersonDetector` with the class index of "face" instead of
    "person". Needs ``mmdet`` and the detector's weights (not shipped).

    Args:
        config: mmdet config file of the detector.
        checkpoint: Its weights.
        score_thr: Minimum detection score.
        face_label: Class index of "face" in the detector's classes.
        device: Device of the detector.
    """

    def __init__(self, config: str, checkpoint: str, score_thr: float = 0.5,
                 face_label: int = 0, device: str = 'cpu') -> None:
        super().__init__(config, checkpoint, score_thr=score_thr, person_label=face_label,
                         device=device)


# ----------------------------------------------------------------------------- boxes
def clip_box(box: Sequence[float], height: int, width: int) -> Optional[Box]:
    """Round a box to whole pixels and clip it to the frame; ``None`` if nothing is left."""
    x1, y1 = max(int(math.floor(box[0] + 0.5)), 0), max(int(math.floor(box[1] + 0.5)), 0)
    x2 = min(int(math.floor(box[2] + 0.5)), width)
    y2 = min(int(math.floor(box[3] + 0.5)), height)
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


def expand_box(box: Sequence[float], ratio: float) -> List[float]:
    """Scale a box about its centre by ``ratio`` (1: unchanged)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * ratio / 2, (box[3] - box[1]) * ratio / 2
    return [cx - hw, cy - hh, cx + hw, cy + hh]


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x1, y1, x2, y2]`` boxes."""
    from torchvision.ops import box_iou as tv_box_iou

    return float(tv_box_iou(torch.tensor([a], dtype=torch.float64),
                            torch.tensor([b], dtype=torch.float64))[0, 0])


class FaceTracker:
    """Keep faces covered through short detector misses (temporal smoothing).

    Frames are given in order. A detected face starts or continues a track
    (matched to the track of the previous frame with the highest IoU above
    ``iou_thr``). A track that finds no detection in a frame is still used,
    at its last box, for up to ``max_gap`` frames: a face that the detector
    misses for one frame is still anonymized. Every such fill is counted as
    a miss.

    Attributes:
        frames: Frames seen.
        detections: Face boxes found by the detector.
        fills: Face boxes supplied by a track for a missed detection.

    Args:
        max_gap: Frames a track survives without a detection (0: no tracking).
        iou_thr: IoU that matches a detection to a track.
    """

    def __init__(self, max_gap: int = 2, iou_thr: float = 0.3) -> None:
        if max_gap < 0:
            raise ValueError(f'max_gap must be >= 0, got {max_gap}')
        self.max_gap = int(max_gap)
        self.iou_thr = float(iou_thr)
        self.reset()

    def reset(self) -> None:
        """Forget every track and zero the counters (e.g. at a new video)."""
        self.tracks: List[Tuple[List[float], int]] = []  # (box, frames since seen)
        self.frames = 0
        self.detections = 0
        self.fills = 0

    @property
    def miss_rate(self) -> float:
        """Fraction of tracked face-frames in which the detector missed the face."""
        total = self.detections + self.fills
        return self.fills / total if total else 0.0

    def update(self, boxes: Sequence[Sequence[float]]) -> List[List[float]]:
        """The boxes to anonymize in the next frame: its detections plus the held tracks."""
        boxes = [list(map(float, b)) for b in boxes]
        self.frames += 1
        self.detections += len(boxes)
        matched = set()
        new_tracks: List[Tuple[List[float], int]] = [(b, 0) for b in boxes]
        for b in boxes:
            ious = [box_iou(b, t[0]) if i not in matched else -1.
                    for i, t in enumerate(self.tracks)]
            if ious and max(ious) >= self.iou_thr:
                matched.add(int(np.argmax(ious)))
        held = []
        for i, (box, age) in enumerate(self.tracks):
            if i not in matched and age + 1 <= self.max_gap:
                held.append((box, age + 1))
        self.fills += len(held)
        self.tracks = new_tracks + held
        return boxes + [b for b, _ in held]


def feather_mask(box: Sequence[float], clipped: Box, feather: float,
                 device: Optional[torch.device] = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Blend weight of each pixel of the clipped box: 1 inside, ramping down near the edges.

    The ramp is ``min(d / r, 1)`` with ``d`` the distance (in pixels, from 1 at
    the outermost row/column) to the nearest edge of the *unclipped* box and
    ``r = max(1, feather * min(box width, box height))``: a face cut by the
    frame border is not faded at that border. Every pixel of the box has a
    weight > 0; pixels outside the box are not touched at all.

    Returns:
        (h, w) weights of the clipped box.
    """
    x1, y1, x2, y2 = clipped
    bw, bh = box[2] - box[0], box[3] - box[1]
    r = max(1.0, feather * min(bw, bh))
    ys = torch.arange(y1, y2, device=device, dtype=torch.float64) + 0.5
    xs = torch.arange(x1, x2, device=device, dtype=torch.float64) + 0.5
    dy = torch.minimum(ys - box[1], box[3] - ys).clamp(min=0) + 0.5
    dx = torch.minimum(xs - box[0], box[2] - xs).clamp(min=0) + 0.5
    d = torch.minimum(dy[:, None], dx[None, :])
    return (d / r).clamp(0, 1).to(dtype)


# ----------------------------------------------------------------------------- base
class FaceRegionAnonymizer(nn.Module):
    """Base class: find the face boxes of every frame, rewrite only those pixels.

    Subclasses implement :meth:`modify_regions`. ``forward(x, boxes=None)``
    takes (B, C, H, W) frames in [0, 1], in temporal order when they come from
    one video (the tracker links consecutive frames of a batch; frames of a
    clip batch from :func:`anonymize_clips` are clip after clip, so a track
    may reach ``max_gap`` frames into the next clip: more pixels anonymized,
    never fewer).

    Args:
        detector: Config of the face detector (a registered callable mapping
            an (H, W, 3) uint8 RGB frame to boxes), :class:`HaarFaceDetector`
            by default, or the detector object itself; ``None``: only boxes
            given to ``forward`` are used.
        expand: Scale factor of each detected box about its centre (the Haar
            box is tight around eyes and mouth; 1.2 also covers the forehead
            and chin). Not applied to boxes given to ``forward``.
        max_gap: Frames a face is held after the detector lost it
            (:class:`FaceTracker`).
        cache_size: Frames whose detections are cached (:class:`CachedBoxDetector`).
    """

    clip_level = False
    #: ``forward`` takes per-frame face boxes (``boxes=``): the privacy audit hands it the
    #: annotated ones (:func:`spact_mm.evaluation.privacy_audit.takes_face_boxes`).
    takes_face_boxes = True

    def __init__(self, detector: Optional[Union[dict, object]] = dict(type='HaarFaceDetector'),
                 expand: float = 1.2, max_gap: int = 2, cache_size: int = 50_000) -> None:
        super().__init__()
        if expand <= 0:
            raise ValueError(f'expand must be > 0, got {expand}')
        self._cached = None if detector is None else CachedBoxDetector(detector, cache_size)
        self.expand = float(expand)
        self.tracker = FaceTracker(max_gap=max_gap)
        #: Boxes used in the last forward pass, one list per frame.
        self.last_boxes: List[List[List[float]]] = []
        self.faces_found = 0  # detected + held boxes over all forward passes

    @property
    def miss_rate(self) -> float:
        """Tracker's miss rate: held boxes / (detected + held) since the last reset."""
        return self.tracker.miss_rate

    def reset_tracking(self) -> None:
        """Forget the tracks and zero the counters (call it at the start of a video)."""
        self.tracker.reset()
        self.faces_found = 0

    def detect_boxes(self, x: torch.Tensor) -> List[List[List[float]]]:
        """Detected (expanded, tracked) face boxes of (B, C, H, W) frames in [0, 1]."""
        if self._cached is None:
            raise ValueError(f'{type(self).__name__} has no face detector: pass boxes=')
        frames = (x.detach().clamp(0, 1) * 255).round().to(torch.uint8)
        frames = frames.permute(0, 2, 3, 1).cpu().numpy()
        if frames.shape[-1] == 1:
            frames = np.repeat(frames, 3, axis=-1)
        out = []
        for f in frames:
            dets = [expand_box(b, self.expand) for b in self._cached(f)]
            out.append(self.tracker.update(dets))
        return out

    def regions(self, boxes: FrameBoxes, height: int, width: int
                ) -> List[Tuple[int, List[float], Box]]:
        """``(frame index, box, clipped box)`` of every box that covers a pixel."""
        out = []
        for b, frame_boxes in enumerate(boxes):
            for box in frame_boxes:
                if box is None or len(box) != 4:
                    continue
                box = [float(v) for v in box]
                if not all(math.isfinite(v) for v in box):
                    raise ValueError(f'non-finite face box {box} in frame {b}')
                c = clip_box(box, height, width)
                if c is not None:
                    out.append((b, box, c))
        return out

    def modify_regions(self, x: torch.Tensor,
                       regions: List[Tuple[int, List[float], Box]]) -> List[torch.Tensor]:
        """The new pixels (C, h, w) of every region, in the regions' order."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, boxes: Optional[FrameBoxes] = None) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> same shape, faces rewritten, everything else unchanged.

        Args:
            x: Frames in [0, 1].
            boxes: Face boxes per frame (``len(boxes) == B``), e.g. ground
                truth; ``None``: detect them.
        """
        if x.dim() != 4:
            raise ValueError(f'{type(self).__name__} expects frames (B, C, H, W), got shape '
                             f'{tuple(x.shape)}')
        if boxes is None:
            boxes = self.detect_boxes(x)
        elif len(boxes) != x.shape[0]:
            raise ValueError(f'{len(boxes)} lists of face boxes for {x.shape[0]} frames')
        self.last_boxes = [[list(map(float, b)) for b in fb] for fb in boxes]
        regions = self.regions(boxes, x.shape[-2], x.shape[-1])
        self.faces_found += len(regions)
        out = x.clone()
        if not regions:
            return out
        for (b, _, (x1, y1, x2, y2)), new in zip(regions, self.modify_regions(x, regions)):
            out[b, :, y1:y2, x1:x2] = new
        return out


# ----------------------------------------------------------------------------- M
class _ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode='reflect'),
            nn.InstanceNorm2d(channels, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode='reflect'),
            nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@MODELS.register_module()
class FaceModifier(nn.Module):
    """The modifier M: a small residual encoder-decoder on face crops.

    A scaled-down version of the released generator of Ren et al. (a ResNet
    generator: stride-2 encoder, residual blocks with instance norm, decoder,
    9 blocks on 256x256 crops there): ``M(c) = clamp(c + G(c), 0, 1)`` with the
    last convolution of G initialised to zero, so that M starts as the
    identity (as SPAct's f_A does, Eq. 4) and learns a change of the face.

    Args:
        channels: Width of the first stage (doubled after the down step).
        num_blocks: Residual blocks at the bottleneck.
    """

    def __init__(self, channels: int = 16, num_blocks: int = 3) -> None:
        super().__init__()
        c = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(3, c, 3, padding=1, padding_mode='reflect'),
            nn.InstanceNorm2d(c, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.InstanceNorm2d(2 * c, affine=True), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*[_ResBlock(2 * c) for _ in range(num_blocks)])
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
            nn.Conv2d(2 * c, c, 3, padding=1, padding_mode='reflect'),
            nn.InstanceNorm2d(c, affine=True), nn.ReLU(inplace=True))
        self.out = nn.Conv2d(c, 3, 3, padding=1, padding_mode='reflect')
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def init_weights(self) -> None:
        """Keep the identity start (mmengine calls ``init_weights`` on every module)."""
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        """(K, 3, S, S) face crops in [0, 1] (S even) -> modified crops in [0, 1]."""
        y = self.decoder(self.blocks(self.encoder(crops)))
        y = y[..., :crops.shape[-2], :crops.shape[-1]]
        return (crops + self.out(y)).clamp(0, 1)


@MODELS.register_module()
class FaceAnonymizer(FaceRegionAnonymizer):
    """Learned face anonymizer (Ren et al., ECCV 2018): M on every face, blended back.

    For each face box: crop it, resize to ``crop_size`` x ``crop_size``
    (bilinear, antialiased) to ``c``, run M (:class:`FaceModifier`, all crops
    of the batch in one pass), resize back to the box and blend with
    :func:`feather_mask` ``m``. With ``blend='residual'`` (default) the change
    is resized back: ``out = x + m * up(M(c) - c)``, so M at its identity
    start leaves every pixel exactly as it was; with ``blend='replace'`` the
    face itself is: ``out = (1 - m) * x + m * up(M(c))`` (the released
    generator's way: the face is redrawn at crop resolution). Outside the
    boxes ``out = x``, exactly. Differentiable with respect to M's weights.
    The L1 size of the modification, ``mean |M(c) - c|`` over the crops of the
    last forward pass, is kept in :attr:`last_l1` (the objective's L1 term,
    handed to the recognizer through :meth:`pop_auxiliary_losses`).

    Args:
        modifier: Config of M.
        crop_size: Side of the crops M sees.
        feather: Width of the blend ramp, as a fraction of the box's smaller side.
        blend: ``'residual'`` or ``'replace'`` (see above).
        l1_weight: Weight of the L1 term of the training objective
            (:meth:`pop_auxiliary_losses`; 0: no L1 term).
        modifier_input: What M reads. ``'face'`` (default, Ren et al.): the face
            crop ``c``. ``'template'`` (ours): a learned template ``T`` (a
            ``crop_size`` x ``crop_size`` parameter, grey at the start) and
            never the face, so every face box is replaced by ``up(M(T))``, the
            same learned face resized to the box: ``out = up(M(T))`` inside
            the box (hard edges), ``x`` outside. The output then depends on the
            input only through the box geometry, as face masking's does, so
            no attacker trained on it can learn more about the face than from
            a masked one (data processing inequality); what is learned is how
            the replacement looks (the L1 term pulls it towards the faces it
            replaces) and what the action model gets. It needs
            ``blend='replace'`` and ``feather=0``: a residual blend or a
            feathered edge would let the original face pixels through.
        **kwargs: Box source options of :class:`FaceRegionAnonymizer`
            (``detector``, ``expand``, ``max_gap``, ``cache_size``).
    """

    def __init__(self, modifier: dict = dict(type='FaceModifier'), crop_size: int = 32,
                 feather: float = 0.15, blend: str = 'residual', l1_weight: float = 0.0,
                 modifier_input: str = 'face', **kwargs) -> None:
        super().__init__(**kwargs)
        if l1_weight < 0:
            raise ValueError(f'l1_weight must be >= 0, got {l1_weight}')
        self.l1_weight = float(l1_weight)
        if crop_size < 4 or crop_size % 2:
            raise ValueError(f'crop_size must be an even number >= 4, got {crop_size}')
        if blend not in ('residual', 'replace'):
            raise ValueError(f"blend must be 'residual' or 'replace', got {blend!r}")
        self.blend = blend
        if modifier_input not in ('face', 'template'):
            raise ValueError(
                f"modifier_input must be 'face' or 'template', got {modifier_input!r}")
        if modifier_input == 'template' and (blend != 'replace' or feather != 0):
            raise ValueError(
                "modifier_input='template' needs blend='replace' and feather=0 (got "
                f"blend={blend!r}, feather={feather}): a residual blend or a feathered edge "
                'mixes the original face pixels into the output')
        self.modifier_input = modifier_input
        self.modifier = MODELS.build(modifier)
        self.crop_size = int(crop_size)
        self.feather = float(feather)
        self.template: Optional[nn.Parameter] = None
        if modifier_input == 'template':
            self.template = nn.Parameter(torch.full((1, 3, self.crop_size, self.crop_size), 0.5))
        self.last_l1: Optional[torch.Tensor] = None

    def modify_regions(self, x: torch.Tensor,
                       regions: List[Tuple[int, List[float], Box]]) -> List[torch.Tensor]:
        """M on every face crop, resized back and feather-blended with the original."""
        s = self.crop_size
        crops = torch.cat([
            F.interpolate(x[b:b + 1, :, y1:y2, x1:x2], size=(s, s), mode='bilinear',
                          align_corners=False, antialias=True)
            for b, _, (x1, y1, x2, y2) in regions]).clamp(0, 1)
        if self.template is None:
            modified = self.modifier(crops)
        else:  # M never reads the face (modifier_input='template')
            modified = self.modifier(self.template.clamp(0, 1)).expand_as(crops)
        self.last_l1 = (modified - crops).abs().mean()
        out = []
        for k, (b, box, c) in enumerate(regions):
            x1, y1, x2, y2 = c
            src = modified[k:k + 1] - crops[k:k + 1] if self.blend == 'residual' \
                else modified[k:k + 1]
            back = F.interpolate(src, size=(y2 - y1, x2 - x1), mode='bilinear',
                                 align_corners=False)[0]
            if self.template is not None:  # feather 0: the weight is 1 on the whole box
                out.append(back.clamp(0, 1))
                continue
            m = feather_mask(box, c, self.feather, x.device, x.dtype)
            orig = x[b, :, y1:y2, x1:x2]
            new = orig + m * back if self.blend == 'residual' else orig + m * (back - orig)
            out.append(new.clamp(0, 1))
        return out

    def forward(self, x: torch.Tensor, boxes: Optional[FrameBoxes] = None) -> torch.Tensor:
        """See :meth:`FaceRegionAnonymizer.forward`; also sets :attr:`last_l1`."""
        self.last_l1 = None
        out = super().forward(x, boxes)
        if self.last_l1 is None:  # no face: no modification
            self.last_l1 = x.new_zeros(())
        return out

    def pop_auxiliary_losses(self) -> Dict[str, torch.Tensor]:
        """The L1 term of the last forward pass, ``dict(loss_face_l1=l1_weight * last_l1)``.

        :class:`AnonymizerDataPreprocessor` (and so
        :class:`FaceAnonymizerDataPreprocessor`) calls it after f_A in training and hands the
        terms to :class:`SPActRecognizer`, which adds them to its losses. Empty with
        ``l1_weight = 0``; a second call returns nothing until the next forward pass.
        """
        l1, self.last_l1 = self.last_l1, None
        if self.l1_weight <= 0 or l1 is None:
            return {}
        return dict(loss_face_l1=self.l1_weight * l1)


# ----------------------------------------------------------------------------- baselines
def gaussian_kernel(sigma: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Normalised 1D Gaussian of radius ``int(3 sigma + 0.5)`` (scipy's ``truncate=3``)."""
    r = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).to(dtype)


@MODELS.register_module()
class FaceObfuscationAnonymizer(FaceRegionAnonymizer):
    """The paper's hand-crafted face anonymizers: blur, pixelation, masking, noise.

    Applied inside every face box only; the rest of the frame is unchanged.
    Deterministic (the noise is drawn from a generator seeded with ``seed`` at
    every forward pass). Not trained.

    - ``'blur'``: Gaussian blur of the face crop, sigma = ``blur_sigma`` x the
      box's longer side, edge pixels replicated at the crop border.
    - ``'pixelate'``: mean over blocks of ``ceil(pixel_frac`` x longer side``)``
      pixels, from the box's top-left corner (the last blocks may be smaller).
    - ``'mask'``: blackening, every face pixel set to 0.
    - ``'noise'``: additive Gaussian noise of std ``noise_std``, clipped to [0, 1].

    Args:
        mode: One of :data:`FACE_OBFUSCATION_MODES`.
        blur_sigma: Blur sigma as a fraction of the box's longer side.
        pixel_frac: Block side as a fraction of the box's longer side.
        noise_std: Std of the additive noise (pixel values in [0, 1]).
        seed: Seed of the noise.
        **kwargs: Box source options of :class:`FaceRegionAnonymizer`.
    """

    def __init__(self, mode: str = 'blur', blur_sigma: float = 0.1, pixel_frac: float = 0.2,
                 noise_std: float = 0.3, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in FACE_OBFUSCATION_MODES:
            raise ValueError(f'mode must be one of {FACE_OBFUSCATION_MODES}, got {mode!r}')
        if blur_sigma <= 0 or pixel_frac <= 0 or noise_std < 0:
            raise ValueError('blur_sigma and pixel_frac must be > 0, noise_std >= 0')
        self.mode = mode
        self.blur_sigma = float(blur_sigma)
        self.pixel_frac = float(pixel_frac)
        self.noise_std = float(noise_std)
        self.seed = int(seed)

    def _blur(self, crop: torch.Tensor, box: List[float]) -> torch.Tensor:
        sigma = self.blur_sigma * max(box[2] - box[0], box[3] - box[1])
        k = gaussian_kernel(sigma, crop.dtype).to(crop.device)
        r = len(k) // 2
        c = crop.shape[0]
        y = F.pad(crop[None], (r, r, 0, 0), mode='replicate')
        y = F.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        y = F.pad(y, (0, 0, r, r), mode='replicate')
        return F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)[0]

    def _pixelate(self, crop: torch.Tensor, box: List[float]) -> torch.Tensor:
        b = max(1, math.ceil(self.pixel_frac * max(box[2] - box[0], box[3] - box[1])))
        h, w = crop.shape[-2:]
        means = F.avg_pool2d(crop[None], b, stride=b, ceil_mode=True)[0]
        return means.repeat_interleave(b, 1).repeat_interleave(b, 2)[:, :h, :w]

    def modify_regions(self, x: torch.Tensor,
                       regions: List[Tuple[int, List[float], Box]]) -> List[torch.Tensor]:
        """The baseline's new pixels for every region."""
        gen = torch.Generator(device='cpu').manual_seed(self.seed)
        out = []
        for b, box, (x1, y1, x2, y2) in regions:
            crop = x[b, :, y1:y2, x1:x2]
            if self.mode == 'mask':
                new = torch.zeros_like(crop)
            elif self.mode == 'blur':
                new = self._blur(crop, box)
            elif self.mode == 'pixelate':
                new = self._pixelate(crop, box)
            else:
                noise = torch.randn(crop.shape, generator=gen, dtype=torch.float32)
                new = (crop + self.noise_std * noise.to(crop.device, crop.dtype)).clamp(0, 1)
            out.append(new)
        return out


def build_face_baseline(name: str) -> dict:
    """Config of the face baseline called ``name`` (see :data:`FACE_BASELINES`)."""
    if name not in FACE_BASELINES:
        raise KeyError(f'unknown face baseline {name!r}; choose from {sorted(FACE_BASELINES)}')
    return dict(FACE_BASELINES[name])
