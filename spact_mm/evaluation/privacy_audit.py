"""The privacy audit: what a determined attacker still recovers from f_A's output.

The co-trained privacy branch f_B is no measure of privacy: an anonymizer can
fool the one f_B it trains against (e.g. by frame-to-frame flicker) while a
freshly trained attacker still recovers every attribute. The audit therefore
trains a *family* of fresh attackers on f_A(train) and tests them on f_A(val)
(:mod:`spact_mm.evaluation.attackers`):

- frame-level: two mmpretrain 2D families (ResNet-18, MobileNetV2), multi-label
  BCE, on frames of the anonymized clips;
- video-level: mmaction2's R3D-18 on whole anonymized clips (the threat model
  of STPrivacy: the attacker sees the whole video);
- cheap probes: scikit-learn logistic regression on pixels and on a colour
  histogram;
- non-adaptive: the ResNet-18 trained on raw frames, applied to anonymized ones
  (the weak threat, reported separately);
- inversion: x learned from f_A(x) with a ridge map and a small conv net (PSNR,
  SSIM), and the ResNet-18 attacker trained on the conv net's reconstructions;
- re-identification (when the data carry ``identity`` labels): query clips of
  the validation split matched against a gallery of training clips, with an
  anonymized and with a raw gallery (top-1, mAP).

The headline is the **worst case**: per attribute the maximum AP over all
attackers (reconstruction included), then the classwise mean over the person
group and over the scene group, with its relative drop from raw data. Beside it
is the top-1 of a fresh action recognizer f'_T on f_A's output, so every audit
is one point of the privacy-utility trade-off.

Clips are decoded with the protocol config's own mmaction2 / mmpretrain
datasets and pipelines (decord), anonymized once by
:func:`~spact_mm.models.anonymizers.clip_utils.anonymize_clips` (per-frame and
clip-level anonymizers alike), and kept in memory for all attackers. With a
working size (``working_size``, :class:`WorkingSizeAnonymizer`) f_A runs on
frames resized to it and its output is resized back, as deployment does
(:func:`spact_mm.apis.inference.working_size`).

A face f_A (``FaceAnonymizer``, the ``face-*`` baselines of
:data:`~spact_mm.models.anonymizers.face.FACE_BASELINES`: :func:`takes_face_boxes`)
is handed the annotated face boxes of every decoded frame (``face_boxes`` of
the annotations, scaled to the decoded clip as ``PackFaceInputs`` does in
training), as ``forward(frames, boxes=...)``; data without them are refused
unless its own detector is asked for (``face_boxes='detector'``). Without
person boxes, re-identification then runs on face-box crops.
"""
import copy
import json
import os
import os.path as osp
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict

from spact_mm.evaluation import attackers as atk
from spact_mm.evaluation.privacy_metrics import classwise_average_precision

#: Attacker families whose per-attribute AP enters the worst case.
ATTRIBUTE_ATTACKERS = ('resnet18', 'mobilenetv2', 'r3d18-video', 'logreg-pixels',
                       'logreg-colour-hist', 'non-adaptive-resnet18', 'inversion-resnet18')


@dataclass
class AuditSettings:
    """How hard the attackers work: ``quick`` (demo scale) or ``full``.

    Attributes:
        frames_per_clip: Frames of each clip used as samples by the frame-level
            attackers (evenly spaced).
        frame: Training of the 2D attackers.
        mobilenet: Training of MobileNetV2 (slower per iteration on a CPU).
        video: Training of the 3D attacker.
        action: Training of the fresh action recognizer f'_T.
        inversion: Training of the conv inversion net.
        identity: Training of the identity-embedding net (re-identification).
        holdout_fraction: Part of the training clips carved out to choose
            hyper-parameters (never the validation split).
        width: Base channels of the attacker networks.
    """

    frames_per_clip: int = 4
    frame: atk.FitSettings = field(default_factory=lambda: atk.FitSettings(400, 64))
    mobilenet: atk.FitSettings = field(default_factory=lambda: atk.FitSettings(300, 64, 3e-3))
    video: atk.FitSettings = field(default_factory=lambda: atk.FitSettings(300, 16))
    action: atk.FitSettings = field(default_factory=lambda: atk.FitSettings(300, 16))
    inversion: atk.FitSettings = field(default_factory=lambda: atk.FitSettings(300, 32))
    identity: atk.FitSettings = field(default_factory=lambda: atk.FitSettings(300, 64))
    holdout_fraction: float = 0.2
    width: int = 16


def audit_settings(mode: str) -> AuditSettings:
    """The settings of a mode: ``'full'`` (default attackers) or ``'quick'`` (demo scale)."""
    if mode == 'full':
        return AuditSettings()
    if mode == 'quick':
        return AuditSettings(
            frames_per_clip=2, frame=atk.FitSettings(150, 64),
            mobilenet=atk.FitSettings(100, 64, 3e-3),
            video=atk.FitSettings(100, 16), action=atk.FitSettings(150, 16),
            inversion=atk.FitSettings(150, 32), identity=atk.FitSettings(150, 64))
    raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------
@dataclass
class Split:
    """One split held in memory.

    Attributes:
        clips: uint8 RGB clips (N, C, T, H, W); images are one-frame clips.
        attrs: Multi-hot privacy labels (N, A) over all attributes, or None.
        labels: Action labels (N,), or None.
        identity: Person identities (N,), or None.
        boxes: Person box of every frame (N, T, 4), ``[x1, y1, x2, y2]`` in the
            clip's pixels (after resizing), or None.
        face_boxes: Face boxes of every frame (annotation ``face_boxes``): per
            clip, per frame, a list of ``[x1, y1, x2, y2]`` in the clip's pixels
            (after resizing), the ``boxes=`` of a face f_A
            (:func:`takes_face_boxes`); None when any clip lacks them.
    """

    clips: torch.Tensor
    attrs: Optional[np.ndarray] = None
    labels: Optional[np.ndarray] = None
    identity: Optional[np.ndarray] = None
    boxes: Optional[np.ndarray] = None
    face_boxes: Optional[List[List[List[List[float]]]]] = None

    def subset(self, idx: np.ndarray) -> 'Split':
        """The samples at ``idx``."""
        def pick(a):
            return None if a is None else a[idx]
        faces = None if self.face_boxes is None else [
            self.face_boxes[i] for i in np.arange(len(self.clips))[idx].reshape(-1)]
        return Split(self.clips[torch.as_tensor(idx)], pick(self.attrs), pick(self.labels),
                     pick(self.identity), pick(self.boxes), faces)


def _cfg_dict(obj) -> dict:
    return copy.deepcopy(obj.to_dict() if isinstance(obj, ConfigDict) else dict(obj))


def _load_split(ds_cfg: dict, images: bool, to_rgb: bool, progress: bool, desc: str) -> Split:
    """Decode a dataset config into a :class:`Split` (all attributes kept)."""
    from tqdm import tqdm

    from spact_mm.registry import DATASETS

    ds_cfg = dict(ds_cfg)
    if 'attributes' in ds_cfg:
        ds_cfg['attributes'] = None
    dataset = DATASETS.build(ds_cfg)
    classes = list(dataset.metainfo.get('classes') or [])
    clips, attrs, labels, ids, boxes, faces = [], [], [], [], [], []
    for i in tqdm(range(len(dataset)), desc=desc, leave=False, disable=not progress):
        info = dataset.get_data_info(i)
        results, seen = _run_pipeline(dataset, i)
        inputs = results['inputs']
        if images:
            img = inputs if inputs.dim() == 3 else inputs[0]
            if to_rgb:
                img = img.flip(0)
            clip = img.unsqueeze(1)  # (C, 1, H, W)
        else:
            clip = inputs[0] if inputs.dim() == 5 else inputs  # first view (C, T, H, W)
        clips.append(clip.to(torch.uint8))
        gt = info.get('gt_label')
        if gt is not None and classes:
            vec = np.zeros(len(classes), np.float32)
            vec[np.asarray(gt, int).reshape(-1)] = 1.
            attrs.append(vec)
        labels.append(info.get('label', -1))
        ids.append(info.get('identity', -1))
        boxes.append(_clip_boxes(info, seen, clip.shape))
        faces.append(_clip_face_boxes(info, seen, clip.shape))
    ids_arr = np.asarray(ids)
    return Split(torch.stack(clips), np.stack(attrs) if len(attrs) == len(clips) else None,
                 np.asarray(labels), None if (ids_arr < 0).all() else ids_arr,
                 None if any(b is None for b in boxes) else np.stack(boxes),
                 None if any(f is None for f in faces) else faces)


def _run_pipeline(dataset, i: int) -> Tuple[dict, dict]:
    """``dataset[i]`` (test mode), also returning the decoded frame indices and source size."""
    results = copy.deepcopy(dataset.get_data_info(i))
    seen: dict = {}
    for transform in dataset.pipeline.transforms:
        for key in ('frame_inds', 'original_shape', 'ori_shape'):
            if key not in seen and isinstance(results, dict) and key in results:
                seen[key] = copy.deepcopy(results[key])
        results = transform(results)
        if results is None:
            raise RuntimeError(f'{dataset.ann_file}: the pipeline dropped sample {i}')
    return results, seen


def _clip_boxes(info: dict, seen: dict, clip_shape: Tuple[int, ...]) -> Optional[np.ndarray]:
    """The annotated person box of every decoded frame, scaled to the clip's pixels."""
    ori = seen.get('original_shape') or seen.get('ori_shape')
    if 'person_boxes' in info and 'frame_inds' in seen:
        src = np.asarray(info['person_boxes'], np.float64)
        inds = np.asarray(seen['frame_inds']).reshape(-1)
        sel = src[np.clip(inds, 0, len(src) - 1)]
    elif info.get('person_box') is not None:
        sel = np.asarray([info['person_box']], np.float64)
    else:
        return None
    if ori is None or len(sel) != clip_shape[1]:
        return None
    return sel * _box_scale(ori, clip_shape)


def _box_scale(ori: Sequence[int], clip_shape: Tuple[int, ...]) -> np.ndarray:
    """``[sx, sy, sx, sy]`` from the video's (H, W) ``ori`` to the decoded clip's pixels."""
    h, w = clip_shape[-2:]
    return np.array([w / ori[1], h / ori[0], w / ori[1], h / ori[0]])


def _clip_face_boxes(info: dict, seen: dict, clip_shape: Tuple[int, ...]
                     ) -> Optional[List[List[List[float]]]]:
    """The annotated face boxes of every decoded frame, scaled to the clip's pixels.

    As ``PackFaceInputs`` does for training: ``info['face_boxes']`` holds a list
    of boxes per video frame; the decoded frames' lists (``frame_inds``) are
    scaled from the video's size to the clip's. ``None`` without annotations.
    """
    ori = seen.get('original_shape') or seen.get('ori_shape')
    src = info.get('face_boxes')
    if src is None or 'frame_inds' not in seen or ori is None:
        return None
    inds = np.clip(np.asarray(seen['frame_inds']).reshape(-1), 0, len(src) - 1)
    if len(inds) != clip_shape[1]:
        return None
    scale = _box_scale(ori, clip_shape)
    return [[(np.asarray(b, np.float64) * scale).tolist() for b in src[i]] for i in inds]


def takes_face_boxes(anonymizer) -> bool:
    """Whether f_A rewrites face boxes given as ``forward(x, boxes=...)`` (a face f_A)."""
    return bool(getattr(anonymizer, 'takes_face_boxes', False))


#: Where a face f_A's boxes come from in the audit: the annotations, or its own detector.
FACE_BOX_SOURCES = ('gt', 'detector')


def _groups(metainfo_src: dict, classes: Sequence[str]) -> Dict[str, List[int]]:
    groups = {}
    for key, name in (('person_attributes', 'person'), ('scene_attributes', 'scene')):
        names = metainfo_src.get(key)
        if names:
            groups[name] = [classes.index(n) for n in names if n in classes]
    return groups or {'privacy': list(range(len(classes)))}


def dataset_metainfo(ds_cfg: dict) -> dict:
    """Metainfo of a dataset config with every attribute kept (built without a pipeline)."""
    from spact_mm.registry import DATASETS

    probe = dict(ds_cfg, pipeline=[])
    if 'attributes' in probe:
        probe['attributes'] = None
    return dict(DATASETS.build(probe).metainfo)


def load_protocol_data(cfg: Config, oracle_mode: Optional[str] = None, progress: bool = True
                       ) -> dict:
    """Decode the privacy and action data of a protocol config into memory.

    The privacy data are the protocol's ``privacy`` datasets with every
    attribute kept. For videos (same-dataset protocol), the whole clip is
    decoded with the action task's test pipeline, so that the video-level
    attacker and clip-level anonymizers see clips; images are one-frame clips.
    The action data are the protocol's ``action`` datasets, both decoded with
    the (deterministic) test pipeline.

    Args:
        cfg: The protocol config (see :mod:`spact_mm.evaluation.protocol`).
        oracle_mode: Oracle obfuscation inserted after decoding (ground-truth boxes).
        progress: Show progress bars.

    Returns:
        ``dict(privacy=dict(train=Split, val=Split), action=dict(train=..., val=...),
        attributes=[names], groups={group: indices})``.
    """
    from spact_mm.evaluation.protocol import _insert_oracle

    action_test_pipeline = _cfg_dict(cfg.action.val_dataloader.dataset)['pipeline']
    if oracle_mode is not None:
        action_test_pipeline = _insert_oracle(action_test_pipeline, oracle_mode)
    to_rgb = bool(cfg.privacy.model.get('data_preprocessor', {}).get('to_rgb', False))
    cache: Dict[str, Split] = {}

    def load(section: str, split: str) -> Tuple[Split, dict]:
        ds = _cfg_dict(cfg[section][f'{"train" if split == "train" else "val"}_dataloader']
                       ['dataset'])
        images = section == 'privacy' and ds.get('type') != 'PrivacyVideoDataset'
        if not images:
            ds['pipeline'] = copy.deepcopy(action_test_pipeline)
            ds['test_mode'] = True
        elif oracle_mode is not None:
            ds['pipeline'] = _insert_oracle(ds['pipeline'], oracle_mode)
        key = json.dumps([ds.get('ann_file'), images], sort_keys=True)
        if key not in cache:
            cache[key] = _load_split(ds, images, to_rgb, progress, f'decode {section}/{split}')
        return cache[key], ds

    out: dict = dict(privacy={}, action={})
    for split in ('train', 'val'):
        out['privacy'][split], ds = load('privacy', split)
        out['action'][split], _ = load('action', split)
    meta = dataset_metainfo(ds)
    classes = list(meta['classes'])
    out['attributes'] = classes
    out['groups'] = _groups(dict(meta), classes)
    return out


def anonymize_split(anonymizer, split: Split, batch_size: int = 16,
                    face_boxes: str = 'gt') -> torch.Tensor:
    """f_A on every clip of ``split``: float [0, 1] clips (N, C, T, H, W).

    A face f_A (:func:`takes_face_boxes`) gets the split's annotated face boxes
    (``face_boxes='gt'``, the default; an error when the split has none) or
    finds the faces with its own detector (``'detector'``). Other f_A never
    see boxes.
    """
    from spact_mm.models.anonymizers.clip_utils import anonymize_clips

    if face_boxes not in FACE_BOX_SOURCES:
        raise ValueError(f'face_boxes must be one of {FACE_BOX_SOURCES}, got {face_boxes!r}')
    gt_faces = takes_face_boxes(anonymizer) and face_boxes == 'gt'
    if gt_faces and split.face_boxes is None:
        raise ValueError(
            f'{type(getattr(anonymizer, "anonymizer", anonymizer)).__name__} is a face f_A and '
            'takes ground-truth face boxes, but these data have no face_boxes annotations '
            '(per-frame face boxes, as the synthetic face benchmark\'s face_videos_*.json); '
            'audit it on data with face boxes, or let its face detector find the faces '
            '(--face-boxes detector / face_boxes=\'detector\')')
    outs = []
    with torch.no_grad():
        for i in range(0, len(split.clips), batch_size):
            x = split.clips[i:i + batch_size].float() / 255.
            kwargs = {}
            if gt_faces:  # frames folded clip after clip, as anonymize_clips folds them
                kwargs['boxes'] = [fb for clip in split.face_boxes[i:i + batch_size]
                                   for fb in clip]
            outs.append(anonymize_clips(anonymizer, x, **kwargs).clamp(0, 1).float())
    return torch.cat(outs)


def build_anonymizer(spec: str, anonymizer_cfg: Optional[dict] = None
                     ) -> Tuple[torch.nn.Module, Optional[str]]:
    """f_A of a baseline name or a checkpoint (loaded safely), and its oracle mode.

    Returns:
        ``(f_A in eval mode, oracle obfuscation mode or None)``.
    """
    from spact_mm.evaluation.protocol import resolve_anonymizer
    from spact_mm.models.anonymizers.face import FACE_BASELINES, build_face_baseline
    from spact_mm.models.data_preprocessors import AnonymizerDataPreprocessor

    if spec in FACE_BASELINES:  # face blur / pixelation / masking / noise on the face boxes
        anon_cfg, checkpoint, oracle = build_face_baseline(spec), None, None
    else:
        anon_cfg, checkpoint, oracle = resolve_anonymizer(spec, anonymizer_cfg)
    pre = AnonymizerDataPreprocessor(anonymizer=anon_cfg, checkpoint=checkpoint, frozen=True)
    return pre.anonymizer.eval(), oracle


class WorkingSizeAnonymizer(torch.nn.Module):
    """f_A at a working size: frames resized to it, f_A, and f_A's output resized back.

    What deployment does (``tools/anonymize_video.py``, :class:`~spact_mm.apis.inference.
    FrameStream`), so that the audit measures the privacy of the deployed
    output: the working size is :func:`~spact_mm.apis.inference.working_size` for
    ``short_side`` (aspect ratio kept); frames are shrunk by area averaging and
    enlarged bilinearly (``align_corners=False``), as OpenCV's ``INTER_AREA`` /
    ``INTER_LINEAR`` there, here on float frames (deployment rounds f_A's
    output to uint8 before enlarging it). A size that f_A's ``size_divisor``
    does not divide is edge-padded for f_A and cropped back, as
    :func:`~spact_mm.apis.inference.anonymize_frames` does.

    Args:
        anonymizer: f_A (per-frame or clip-level).
        short_side: Short side (pixels) at which f_A runs.
    """

    def __init__(self, anonymizer: torch.nn.Module, short_side: int) -> None:
        super().__init__()
        if short_side < 1:
            raise ValueError(f'the working size must be >= 1 pixel, got {short_side}')
        self.anonymizer = anonymizer
        self.short_side = int(short_side)
        self.clip_level = bool(getattr(anonymizer, 'clip_level', False))
        self.takes_face_boxes = takes_face_boxes(anonymizer)

    @staticmethod
    def _resize(x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
        h, w = x.shape[-2:]
        if (h, w) == tuple(size):
            return x
        mode = 'area' if size[0] * size[1] < h * w else 'bilinear'
        flat = x.reshape(-1, 1, h, w)
        kwargs = dict(align_corners=False) if mode == 'bilinear' else {}
        out = F.interpolate(flat, size=tuple(size), mode=mode, **kwargs)
        return out.reshape(*x.shape[:-2], *size)

    def forward(self, x: torch.Tensor, boxes: Optional[list] = None) -> torch.Tensor:
        """f_A on ``x`` (..., H, W) at the working size; the output has ``x``'s size.

        ``boxes`` (a face f_A's per-frame face boxes in ``x``'s pixels) are
        scaled to the working size and passed on.
        """
        from spact_mm.apis.inference import working_size

        h, w = x.shape[-2:]
        size = working_size(h, w, self.short_side)
        kwargs = {}
        if boxes is not None:  # padding only extends right and bottom: no offset
            sx, sy = size[1] / w, size[0] / h
            kwargs['boxes'] = [[[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in fb]
                               for fb in boxes]
        y = self._resize(x, size)
        div = int(getattr(self.anonymizer, 'size_divisor', 1))
        pad_h, pad_w = -size[0] % div, -size[1] % div
        if pad_h or pad_w:
            lead = y.shape[:-2]
            y = F.pad(y.reshape(-1, *y.shape[-3:]), (0, pad_w, 0, pad_h), mode='replicate')
            y = y.reshape(*lead, *y.shape[-2:])
        y = self.anonymizer(y, **kwargs)[..., :size[0], :size[1]]
        return self._resize(y, (h, w))


def resolve_working_size(spec: Optional[Union[int, str]], anonymizer: str) -> Optional[int]:
    """The short side f_A runs at in the audit, from ``--working-size``.

    Args:
        spec: ``None`` or ``'full'`` (f_A on the protocol's frames as they are),
            ``'trained'`` (the short side of the frames f_A was trained on, as
            the checkpoint's recorded config says:
            :func:`~spact_mm.apis.inference.trained_size_in_checkpoint`, the
            default of ``tools/anonymize_video.py``), or a number of pixels.
        anonymizer: The ``--anonymizer`` (a checkpoint for ``'trained'``).

    Returns:
        The short side, or ``None`` for the protocol's own frames.
    """
    if spec is None or str(spec) == 'full':
        return None
    if str(spec) == 'trained':
        from spact_mm.apis.inference import trained_size_in_checkpoint

        size = trained_size_in_checkpoint(anonymizer) if osp.isfile(anonymizer) else None
        if size is None:
            raise ValueError(f'--working-size trained: {anonymizer} records no training frame '
                             'size (a checkpoint written by tools/train.py does); give the '
                             'size in pixels')
        return size
    try:
        size = int(spec)
    except ValueError:
        raise ValueError(f"--working-size must be 'full', 'trained' or pixels, got "
                         f'{spec!r}') from None
    if size < 1:
        raise ValueError(f'--working-size must be >= 1 pixel, got {size}')
    return size


# ----------------------------------------------------------------------------
# The audit
# ----------------------------------------------------------------------------
def _frame_index(t: int, per_clip: int) -> np.ndarray:
    return np.unique(np.linspace(0, t - 1, min(per_clip, t)).round().astype(int))


def person_crops(clips: torch.Tensor, boxes: np.ndarray, per_clip: int,
                 size: Tuple[int, int] = (32, 16)) -> torch.Tensor:
    """Person-box crops of evenly spaced frames, resized with torchvision's ``roi_align``.

    Args:
        clips: (N, C, T, H, W) clips.
        boxes: (N, T, 4) person boxes ``[x1, y1, x2, y2]`` in the clips' pixels.
        per_clip: Frames per clip (as :func:`_frames`).
        size: Output (height, width) of a crop.

    Returns:
        Crops as clips (N, C, k, *size), so that :func:`_frames` applies to them.
    """
    from torchvision.ops import roi_align

    idx = _frame_index(clips.shape[2], per_clip)
    frames, _ = _frames(clips, per_clip)
    b = torch.as_tensor(boxes[:, idx].reshape(-1, 4), dtype=torch.float32)
    rois = torch.cat([torch.arange(len(b), dtype=torch.float32)[:, None], b], 1)
    crops = roi_align(frames.float(), rois, size, spatial_scale=1.0, sampling_ratio=-1,
                      aligned=True)
    return crops.reshape(len(clips), len(idx), *crops.shape[1:]).permute(0, 2, 1, 3, 4)


def _frames(clips: torch.Tensor, per_clip: int) -> Tuple[torch.Tensor, np.ndarray]:
    """Evenly spaced frames of each clip: (N * k, C, H, W) and the clip index of each."""
    idx = _frame_index(clips.shape[2], per_clip)
    frames = clips[:, :, idx].permute(0, 2, 1, 3, 4).reshape(-1, *clips.shape[1:2],
                                                            *clips.shape[3:])
    owner = np.repeat(np.arange(len(clips)), len(idx))
    return frames, owner


def _ap(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return classwise_average_precision(scores, targets)


def _group_cmaps(ap: np.ndarray, groups: Dict[str, List[int]]) -> Dict[str, float]:
    return {g: float(np.nanmean(ap[idx]) * 100.) if not np.isnan(ap[idx]).all()
            else float('nan') for g, idx in groups.items()}


def _holdout_split(n: int, fraction: float, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng([seed, 17]).permutation(n)
    k = max(1, int(round(n * fraction)))
    return np.sort(perm[k:]), np.sort(perm[:k])


def run_audit_on_data(anonymizer, data: dict, settings: AuditSettings, seed: int = 0,
                      progress: bool = True, log=print, raw_data: Optional[dict] = None,
                      face_boxes: str = 'gt') -> dict:
    """Train every attacker on f_A(train), test on f_A(val): the audit's figures.

    Args:
        anonymizer: f_A (eval mode), a per-frame or clip-level module.
        data: :func:`load_protocol_data`'s output.
        settings: Attacker training settings.
        seed: Seed of every attacker.
        progress: Show progress bars.
        log: Where one line per finished attacker goes.
        raw_data: The same samples decoded without obfuscation, when ``data``
            already holds an oracle baseline's output (obfuscation in the
            pipeline, f_A the identity): the raw frames that the inversion
            attack must recover, the non-adaptive attacker trains on and the
            raw re-id gallery holds. ``None``: ``data`` is raw.
        face_boxes: Where a face f_A's boxes come from (:func:`anonymize_split`):
            ``'gt'`` (the splits' annotated ``face_boxes``) or ``'detector'``.

    Returns:
        The figures (``attackers``, ``worst_case``, ``inversion``, ``reid``,
        ``action``, ``chance``); see :func:`run_audit`.
    """
    groups = data['groups']
    priv_tr, priv_val = data['privacy']['train'], data['privacy']['val']
    if priv_tr.attrs is None or priv_val.attrs is None:
        raise ValueError('the privacy data have no attribute labels (gt_label)')
    fit_idx, hold_idx = _holdout_split(len(priv_tr.clips), settings.holdout_fraction, seed)
    raw_src = (raw_data or data)['privacy']
    if raw_src['train'].clips.shape != priv_tr.clips.shape:
        raise ValueError('raw_data must hold the same samples as data')
    raw_tr = raw_src['train'].clips.float() / 255.
    raw_val = raw_src['val'].clips.float() / 255.
    anon_tr = anonymize_split(anonymizer, priv_tr, face_boxes=face_boxes)
    anon_val = anonymize_split(anonymizer, priv_val, face_boxes=face_boxes)
    k = settings.frames_per_clip
    fr_tr, own_tr = _frames(anon_tr, k)
    fr_val, own_val = _frames(anon_val, k)
    raw_fr_tr, _ = _frames(raw_tr, k)
    raw_fr_val, _ = _frames(raw_val, k)
    y_tr = torch.as_tensor(priv_tr.attrs[own_tr])
    y_val = priv_val.attrs[own_val]
    fit = np.isin(own_tr, fit_idx)
    hold = ~fit
    results: dict = dict(attackers={}, inversion={}, reid={})

    def record(name: str, scores: np.ndarray, targets: np.ndarray, kind: str,
               adaptive: bool = True) -> None:
        ap = _ap(scores, targets)
        results['attackers'][name] = dict(
            kind=kind, adaptive=adaptive, per_attribute_ap=[float(v * 100.) for v in ap],
            cmap=_group_cmaps(ap, groups))
        log(f'  {name:24s} ' + '  '.join(f'{g} cMAP {v:5.1f}'
                                         for g, v in results['attackers'][name]['cmap'].items()))

    width = settings.width
    nx_tr, nx_val = atk.normalize(fr_tr), atk.normalize(fr_val)
    # 2D attackers, two families
    for i, (name, backbone) in enumerate(atk.frame_backbones(width).items()):
        fs = settings.mobilenet if name == 'mobilenetv2' else settings.frame
        model = atk.train_attribute_network(backbone, nx_tr[fit], y_tr[fit],
                                            (nx_tr[hold], y_tr[hold]), fs, seed + i, name,
                                            progress)
        record(name, atk.attribute_scores(model, nx_val), y_val, 'frame')
        if name == 'resnet18':
            resnet_backbone = backbone
    # video-level attacker on whole clips
    if anon_tr.shape[2] > 1:
        yc_tr = torch.as_tensor(priv_tr.attrs)
        model = atk.train_attribute_network(
            atk.video_backbone(width), atk.normalize(anon_tr[fit_idx]), yc_tr[fit_idx],
            (atk.normalize(anon_tr[hold_idx]), yc_tr[hold_idx]), settings.video, seed + 2,
            'r3d18-video', progress)
        record('r3d18-video', atk.attribute_scores(model, atk.normalize(anon_val)),
               priv_val.attrs, 'video')
    # cheap probes (scikit-learn)
    ytr_np = y_tr.numpy()
    for name, feat in (('logreg-pixels', lambda f: f.flatten(1).numpy()),
                       ('logreg-colour-hist', atk.colour_histogram)):
        f_tr, f_val = feat(fr_tr), feat(fr_val)
        scores = atk.logistic_probe(f_tr[fit], ytr_np[fit], f_tr[hold], ytr_np[hold], f_val,
                                    seed=seed)
        record(name, scores, y_val, 'probe')
    # non-adaptive: trained on raw frames, applied to anonymized ones
    nraw_tr = atk.normalize(raw_fr_tr)
    model = atk.train_attribute_network(resnet_backbone, nraw_tr[fit], y_tr[fit],
                                        (nraw_tr[hold], y_tr[hold]), settings.frame, seed,
                                        'non-adaptive resnet18', progress)
    record('non-adaptive-resnet18', atk.attribute_scores(model, nx_val), y_val, 'frame',
           adaptive=False)
    # inversion: x from f_A(x)
    a_np, r_np = fr_tr.numpy(), raw_fr_tr.numpy()
    ridge = atk.ridge_inversion(a_np[fit], r_np[fit], a_np[hold], r_np[hold])
    rec = ridge(fr_val.numpy())
    results['inversion']['ridge'] = dict(psnr=atk.psnr(rec, raw_fr_val.numpy()),
                                         ssim=atk.ssim(rec, raw_fr_val.numpy()))
    net = atk.conv_inversion(fr_tr[fit], raw_fr_tr[fit], (fr_tr[hold], raw_fr_tr[hold]),
                             settings.inversion, seed + 3, width, progress)
    rec_tr = atk.predict(net, fr_tr).clamp(0, 1)
    rec_val = atk.predict(net, fr_val).clamp(0, 1)
    results['inversion']['conv'] = dict(psnr=atk.psnr(rec_val.numpy(), raw_fr_val.numpy()),
                                        ssim=atk.ssim(rec_val.numpy(), raw_fr_val.numpy()))
    log('  inversion                ' + '  '.join(
        f"{k_}: PSNR {v['psnr']:.1f} dB SSIM {v['ssim']:.3f}"
        for k_, v in results['inversion'].items()))
    nrec_tr, nrec_val = atk.normalize(rec_tr), atk.normalize(rec_val)
    model = atk.train_attribute_network(resnet_backbone, nrec_tr[fit], y_tr[fit],
                                        (nrec_tr[hold], y_tr[hold]), settings.frame, seed + 4,
                                        'inversion resnet18', progress)
    record('inversion-resnet18', atk.attribute_scores(model, nrec_val), y_val, 'inversion')
    # worst case over attackers (reconstruction included)
    per_ap = {n: np.asarray(r['per_attribute_ap']) / 100. for n, r in results['attackers'].items()
              if n in ATTRIBUTE_ATTACKERS}
    results['worst_case'] = atk.worst_case(per_ap, groups)
    prevalence = priv_val.attrs.mean(0)
    results['chance'] = {g: float(prevalence[idx].mean() * 100.) for g, idx in groups.items()}
    # re-identification
    if priv_tr.identity is not None and priv_val.identity is not None:
        if priv_tr.boxes is not None and priv_val.boxes is not None:
            # an attacker who finds the person (here: the annotated boxes) sees their pixels
            # only; whole frames would be dominated by the background
            k = settings.frames_per_clip
            reid_in = [person_crops(c, b, k) for c, b in (
                (anon_tr, priv_tr.boxes), (anon_val, priv_val.boxes), (raw_tr, priv_tr.boxes))]
            region = 'person box'
        elif priv_tr.face_boxes is not None and priv_val.face_boxes is not None:
            # no person boxes, but face boxes (the face benchmark: identity lives in the face)
            k = settings.frames_per_clip
            reid_in = [person_crops(c, _largest_face_boxes(fb, c.shape), k, size=(32, 32))
                       for c, fb in ((anon_tr, priv_tr.face_boxes),
                                     (anon_val, priv_val.face_boxes),
                                     (raw_tr, priv_tr.face_boxes))]
            region = 'face box'
        else:
            reid_in, region = [anon_tr, anon_val, raw_tr], 'whole frame'
        results['reid'] = _reid(*reid_in, priv_tr.identity, priv_val.identity, settings, seed,
                                resnet_backbone, progress, log)
        results['reid_region'] = region
    # action top-1 of a fresh f'_T
    results['action'] = _action(anonymizer, data, settings, seed, progress, log, face_boxes)
    return results


def _largest_face_boxes(face_boxes: List[List[List[List[float]]]], clip_shape
                        ) -> np.ndarray:
    """(N, T, 4) boxes for :func:`person_crops`: each frame's largest face box, clipped to
    the frame (the whole frame where a frame has none)."""
    h, w = clip_shape[-2:]
    out = np.tile(np.array([0., 0., w, h]), (len(face_boxes), clip_shape[2], 1))
    for n, clip in enumerate(face_boxes):
        for t, frame in enumerate(clip):
            if frame:
                b = max(frame, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
                out[n, t] = np.clip(b, 0, [w, h, w, h])
    return out


def _clip_features(fn, clips: torch.Tensor, per_clip: int) -> np.ndarray:
    frames, owner = _frames(clips, per_clip)
    f = fn(frames)
    return np.stack([f[owner == i].mean(0) for i in range(len(clips))])


def _reid(anon_tr, anon_val, raw_tr, id_tr, id_val, settings, seed, backbone, progress, log
          ) -> dict:
    """Query = validation clips (anonymized); gallery = training clips (anonymized or raw)."""
    k = settings.frames_per_clip
    out = {}
    hist = {name: _clip_features(atk.colour_histogram, c, k)
            for name, c in (('anon_tr', anon_tr), ('anon_val', anon_val), ('raw_tr', raw_tr))}
    out['colour-hist'] = dict(
        anonymized_gallery=atk.reid_scores(hist['anon_val'], id_val, hist['anon_tr'], id_tr),
        raw_gallery=atk.reid_scores(hist['anon_val'], id_val, hist['raw_tr'], id_tr))
    # learned embedding: identity classifier on frames; the raw-gallery attacker
    # knows f_A and trains on raw and anonymized frames of the gallery alike
    ids = np.unique(id_tr)
    remap = {v: i for i, v in enumerate(ids)}
    fr_a, own = _frames(anon_tr, k)
    fr_r, _ = _frames(raw_tr, k)
    y = torch.as_tensor([remap[v] for v in id_tr[own]])
    for gallery in ('anonymized_gallery', 'raw_gallery'):
        x = atk.normalize(fr_a if gallery == 'anonymized_gallery' else torch.cat([fr_a, fr_r]))
        yy = y if gallery == 'anonymized_gallery' else torch.cat([y, y])
        perm = np.random.default_rng([seed, 23]).permutation(len(x))
        hold = perm[:max(1, len(x) // 5)]
        fit = perm[len(hold):]
        torch.manual_seed(seed + 5)
        model = atk.FeatureClassifier(backbone, len(ids))
        model, _, _ = atk.fit_network(model, x[fit], yy[fit], F.cross_entropy, atk.accuracy,
                                      (x[hold], yy[hold]), settings.identity, seed + 5,
                                      f'identity net ({gallery})', progress)

        def feats(frames, m=model):
            return atk._batched(m.eval(), atk.normalize(frames), lambda mm, b: mm.features(b)
                                ).numpy()

        q = _clip_features(feats, anon_val, k)
        g = _clip_features(feats, anon_tr if gallery == 'anonymized_gallery' else raw_tr, k)
        out.setdefault('resnet18-identity', {})[gallery] = atk.reid_scores(q, id_val, g, id_tr)
    for name, r in out.items():
        log(f'  re-id {name:18s} ' + '  '.join(
            f"{g}: top-1 {v['top1']:.1f} mAP {v['map']:.1f}" for g, v in r.items()))
    return out


def _action(anonymizer, data, settings, seed, progress, log, face_boxes: str = 'gt') -> dict:
    tr, val = data['action']['train'], data['action']['val']
    if tr.labels is None or (tr.labels < 0).any():
        return {}
    num_classes = int(max(tr.labels.max(), val.labels.max()) + 1)
    x_tr = atk.normalize(anonymize_split(anonymizer, tr, face_boxes=face_boxes))
    x_val = atk.normalize(anonymize_split(anonymizer, val, face_boxes=face_boxes))
    y_tr = torch.as_tensor(tr.labels).long()
    fit, hold = _holdout_split(len(x_tr), settings.holdout_fraction, seed + 6)
    backbone = data.get('action_backbone') or atk.video_backbone(settings.width)
    torch.manual_seed(seed + 6)
    model = atk.FeatureClassifier(backbone, num_classes)
    model, _, _ = atk.fit_network(model, x_tr[fit], y_tr[fit], F.cross_entropy, atk.accuracy,
                                  (x_tr[hold], y_tr[hold]), settings.action, seed + 6,
                                  "fresh f'_T (action)", progress)
    top1 = 100. * atk.accuracy(atk.predict(model, x_val), torch.as_tensor(val.labels))
    log(f"  fresh f'_T action top-1   {top1:.1f}")
    return dict(top1=top1)


def relative_drop(value: float, raw: float) -> float:
    """``(raw - value) / raw * 100``: the ↓% of the paper's tables."""
    return (raw - value) / raw * 100.


def verdict(audit: dict) -> str:
    """One plain sentence on how much private information f_A removed."""
    drops = audit.get('drop_pct')
    if not drops:
        return ('No raw reference: the worst-case attacker reaches ' + ', '.join(
            f"{g} cMAP {v['cmap']:.1f}" for g, v in audit['worst_case'].items()) + '.')
    parts = [f"{g} attributes by {drops[g]:.0f}% (worst-case cMAP "
             f"{audit['raw_worst_case'][g]:.1f} -> {audit['worst_case'][g]['cmap']:.1f})"
             for g in audit['worst_case'] if g in drops]
    act = ''
    if 'action_top1' in audit.get('raw_action', {}) and 'top1' in audit.get('action', {}):
        act = (f"; fresh action top-1 {audit['raw_action']['action_top1']:.1f} -> "
               f"{audit['action']['top1']:.1f}")
    removed = max(drops[g] for g in audit['worst_case'] if g in drops)  # privacy groups only
    head = ('f_A removed little private information' if removed < 10 else
            'f_A removed some private information' if removed < 25 else
            'f_A removed much private information')
    return f"{head}: a retrained worst-case attacker's score fell for " + ', '.join(parts) + \
        act + '.'


def _atomic_write(path: str, text: str) -> None:
    from spact_mm.utils import atomic_write_bytes

    atomic_write_bytes(text.encode('utf-8'), path)


def format_audit_markdown(audit: dict) -> str:
    """The audit as a markdown table: one row per attacker, one column per group."""
    groups = list(audit['worst_case'])
    raw = audit.get('raw_attackers', {})
    lines = [f"# Privacy audit: {audit['method']} ({audit['protocol']}, {audit['mode']} mode)",
             '', '| attacker | kind | ' + ' | '.join(f'{g} cMAP' for g in groups) + ' |',
             '| --- | --- | ' + ' | '.join('---' for _ in groups) + ' |']

    def cell(v, r):
        return f'{v:.1f}' + (f' (raw {r:.1f})' if r is not None else '')

    for name, r in audit['attackers'].items():
        rr = raw.get(name, {}).get('cmap', {})
        kind = r['kind'] + ('' if r['adaptive'] else ', non-adaptive')
        lines.append(f'| {name} | {kind} | ' + ' | '.join(
            cell(r['cmap'][g], rr.get(g)) for g in groups) + ' |')
    rw = audit.get('raw_worst_case', {})
    lines.append('| **worst case** | max per attribute | ' + ' | '.join(
        f"**{cell(audit['worst_case'][g]['cmap'], rw.get(g))}**" for g in groups) + ' |')
    lines.append('| chance (prevalence) | | ' + ' | '.join(
        f"{audit['chance'][g]:.1f}" for g in groups) + ' |')
    lines += ['', '| inversion | PSNR (dB) | SSIM |', '| --- | --- | --- |']
    for name, r in audit['inversion'].items():
        lines.append(f"| {name} | {r['psnr']:.1f} | {r['ssim']:.3f} |")
    if audit.get('reid'):
        lines += ['', f"Re-identification on the {audit.get('reid_region', 'whole frame')}: "
                  'query = validation clips (anonymized), gallery = training clips.', '',
                  '| re-identification | gallery | top-1 (%) | mAP (%) | chance top-1 |',
                  '| --- | --- | --- | --- | --- |']
        for name, r in audit['reid'].items():
            for gal, v in r.items():
                lines.append(f"| {name} | {gal.replace('_', ' ')} | {v['top1']:.1f} | "
                             f"{v['map']:.1f} | {v['chance_top1']:.1f} |")
    if audit.get('action'):
        lines += ['', f"Fresh f'_T action top-1: {audit['action']['top1']:.1f}"]
    lines += ['', audit.get('verdict', ''), '']
    if audit.get('caveat'):
        lines += [f"**Caveat:** {audit['caveat']}.", '']
    return '\n'.join(lines)


def plot_audit(audit: dict, path: str) -> None:
    """Bar chart per attacker and group (anonymized beside raw), worst case last."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    groups = list(audit['worst_case'])
    names = list(audit['attackers']) + ['worst case']
    raw = audit.get('raw_attackers', {})
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4), squeeze=False)
    for ax, g in zip(axes[0], groups):
        vals = [audit['attackers'][n]['cmap'][g] for n in names[:-1]] + \
            [audit['worst_case'][g]['cmap']]
        pos = np.arange(len(names))
        if raw:
            rv = [raw.get(n, {}).get('cmap', {}).get(g, np.nan) for n in names[:-1]] + \
                [audit.get('raw_worst_case', {}).get(g, np.nan)]
            ax.bar(pos - 0.2, rv, 0.4, label='raw', color='0.7')
            ax.bar(pos + 0.2, vals, 0.4, label=audit['method'], color='tab:red')
        else:
            ax.bar(pos, vals, 0.6, label=audit['method'], color='tab:red')
        ax.axhline(audit['chance'][g], color='k', ls='--', lw=1, label='chance')
        ax.set_xticks(pos)
        ax.set_xticklabels(names, rotation=45, ha='right', fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel(f'{g} attributes cMAP (%)')
        ax.set_title(f'{g}: fresh attackers on f_A output')
        ax.legend(fontsize=8)
    fig.tight_layout()
    from spact_mm.utils.checkpoint import atomic_output

    with atomic_output(path, '.tmp.png') as tmp:  # savefig picks the format by extension
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def attach_raw(audit: dict, raw: dict) -> dict:
    """Add the raw audit's figures and the relative drops to ``audit`` (in place)."""
    if raw.get('protocol') != audit.get('protocol'):
        raise ValueError(f"the raw audit is for protocol {raw.get('protocol')!r}, not "
                         f"{audit.get('protocol')!r}")
    audit['raw_worst_case'] = {g: v['cmap'] for g, v in raw['worst_case'].items()}
    audit['raw_attackers'] = {n: dict(cmap=r['cmap']) for n, r in raw['attackers'].items()}
    audit['drop_pct'] = {g: relative_drop(audit['worst_case'][g]['cmap'], r)
                         for g, r in audit['raw_worst_case'].items() if g in audit['worst_case']}
    if raw.get('action'):
        audit['raw_action'] = dict(action_top1=raw['action']['top1'])
        if audit.get('action'):
            audit['drop_pct']['action_top1'] = relative_drop(audit['action']['top1'],
                                                             raw['action']['top1'])
    return audit


def load_config(config: str, data_root: Optional[str] = None,
                cfg_options: Optional[dict] = None) -> Config:
    """Load a protocol config, apply overrides, point it at ``data_root``, set the scope."""
    from mmengine.registry import init_default_scope

    import spact_mm  # noqa: F401  (registers everything)
    from spact_mm.evaluation.protocol import load_protocol_config

    cfg = load_protocol_config(config, data_root, cfg_options)
    init_default_scope(cfg.get('default_scope', 'spact_mm'))
    return cfg


def audit_with_raw(config: str, anonymizer: str, work_dir: str, mode: str = 'quick',
                   method: Optional[str] = None, seed: int = 0,
                   data_root: Optional[str] = None, cfg_options: Optional[dict] = None,
                   progress: bool = True, log=print,
                   working_size: Optional[Union[int, str]] = None,
                   face_boxes: str = 'gt') -> Tuple[dict, dict]:
    """Audit raw data and ``anonymizer`` with one decoding of the data.

    Writes ``{work_dir}/raw/`` and ``{work_dir}/{method}/``; the second audit
    carries the drops from the first. ``working_size`` applies to ``anonymizer``
    only (raw data are the protocol's frames), see :func:`run_audit`, and so does
    ``face_boxes``.

    Returns:
        ``(raw audit, anonymizer's audit)``.
    """
    cfg = load_config(config, data_root, cfg_options)
    data = load_protocol_data(cfg, None, progress)
    raw = run_audit(config, 'raw', osp.join(work_dir, 'raw'), mode, seed=seed,
                    data_root=data_root, cfg_options=cfg_options, progress=progress, data=data,
                    log=log)
    from spact_mm.evaluation.protocol import default_method_name

    name = method or default_method_name(anonymizer, osp.isfile(anonymizer))
    out = run_audit(config, anonymizer, osp.join(work_dir, name), mode, method=name,
                    raw_audit=osp.join(work_dir, 'raw', 'audit.json'), seed=seed,
                    data_root=data_root, cfg_options=cfg_options, progress=progress, data=data,
                    log=log, working_size=working_size, face_boxes=face_boxes)
    return raw, out


def run_audit(config: str, anonymizer: str, work_dir: str, mode: str = 'quick',
              method: Optional[str] = None, raw_audit: Optional[str] = None,
              seed: int = 0, data_root: Optional[str] = None,
              cfg_options: Optional[dict] = None, progress: bool = True,
              data: Optional[dict] = None, settings: Optional[AuditSettings] = None,
              log=print, working_size: Optional[Union[int, str]] = None,
              face_boxes: str = 'gt') -> dict:
    """Audit one anonymizer under one protocol; write ``audit.json``, ``audit.md``, ``audit.png``.

    Args:
        config: Protocol config (``configs/protocols/...``).
        anonymizer: A baseline name or a checkpoint holding f_A (as
            ``tools/eval_protocol.py``).
        work_dir: Output folder.
        mode: ``'quick'`` (demo scale) or ``'full'``.
        method: Name in tables (default: the baseline name or the checkpoint's folder).
        raw_audit: ``audit.json`` of the same protocol with ``raw``, for the drops.
        seed: Seed of every attacker.
        data_root: Replace the config's ``data_root`` prefix in every path.
        cfg_options: Overrides merged into the protocol config.
        progress: Show progress bars.
        data: Already decoded data (:func:`load_protocol_data`), e.g. shared by
            several audits of one protocol; ignored for oracle baselines.
        settings: Attacker settings instead of ``mode``'s (e.g. tiny ones in tests).
        log: Where progress lines go.
        working_size: Run f_A at this short side (pixels), ``'trained'`` (the
            size f_A was trained at) or ``'full'`` / ``None`` (the protocol's
            frames, the default): :func:`resolve_working_size`,
            :class:`WorkingSizeAnonymizer`. Recorded as ``working_size`` in
            ``audit.json`` when given.
        face_boxes: For a face f_A (:func:`takes_face_boxes`: ``FaceAnonymizer``,
            the ``face-*`` baselines): ``'gt'`` hands it the annotated face boxes
            of every decoded frame (an error when the protocol's data have none),
            ``'detector'`` lets its own face detector find the faces. Recorded
            as ``face_boxes`` in ``audit.json`` for a face f_A; other f_A ignore it.

    Returns:
        The content of ``audit.json``.
    """
    start = time.time()
    cfg = load_config(config, data_root, cfg_options)
    raw = None
    if raw_audit is not None:  # read before any training: fail early
        with open(raw_audit) as f:
            raw = json.load(f)
    f_a, oracle = build_anonymizer(anonymizer, cfg.get('anonymizer'))
    short_side = resolve_working_size(working_size, anonymizer)
    if short_side is not None:
        f_a = WorkingSizeAnonymizer(f_a, short_side)
    if method is None:
        from spact_mm.evaluation.protocol import default_method_name

        method = default_method_name(anonymizer, osp.isfile(anonymizer))
    raw_data = None
    if oracle is not None:  # obfuscation in the pipeline; the raw frames are the reference
        raw_data = data if data is not None else load_protocol_data(cfg, None, progress)
        data = load_protocol_data(cfg, oracle, progress)
    elif data is None:
        data = load_protocol_data(cfg, None, progress)
    if face_boxes not in FACE_BOX_SOURCES:
        raise ValueError(f'face_boxes must be one of {FACE_BOX_SOURCES}, got {face_boxes!r}')
    if takes_face_boxes(f_a) and face_boxes == 'gt':  # fail before any training
        missing = [f'{s}/{k}' for s in ('privacy', 'action') for k in ('train', 'val')
                   if data[s][k].face_boxes is None]
        if missing:
            raise ValueError(
                f'{anonymizer} is a face f_A, which the audit hands the ground-truth face '
                f'boxes, but the {", ".join(missing)} data of {config} have no face_boxes '
                'annotations (per-frame face boxes, e.g. the synthetic face benchmark: '
                'configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-faces.py'
                "); pass --face-boxes detector (face_boxes='detector') to let its face "
                'detector find the faces instead')
    action_model = cfg.action.model
    data = dict(data, action_backbone=_cfg_dict(action_model['backbone']))
    settings = settings or audit_settings(mode)
    proto = dict(cfg.get('protocol', {}))
    log(f"privacy audit: {method} | {proto.get('name', osp.basename(config))} | {mode} mode")
    figures = run_audit_on_data(f_a, data, settings, seed, progress, log, raw_data=raw_data,
                                face_boxes=face_boxes)
    audit = dict(method=method, anonymizer=anonymizer, protocol=proto.get('name', config),
                 dataset=proto.get('dataset'), config=config, mode=mode, seed=seed,
                 settings=asdict(settings), attributes=data['attributes'],
                 groups={g: [data['attributes'][i] for i in idx]
                         for g, idx in data['groups'].items()},
                 num_samples=dict(privacy_train=len(data['privacy']['train'].clips),
                                  privacy_val=len(data['privacy']['val'].clips),
                                  action_train=len(data['action']['train'].clips),
                                  action_val=len(data['action']['val'].clips)),
                 **figures)
    if takes_face_boxes(f_a):
        audit['face_boxes'] = face_boxes
    if working_size is not None:
        h, w = data['privacy']['train'].clips.shape[-2:]
        from spact_mm.apis.inference import working_size as size_at

        f_a_size = size_at(int(h), int(w), short_side) if short_side else (int(h), int(w))
        audit['working_size'] = dict(spec=str(working_size), short_side=short_side,
                                     frame_size=[int(h), int(w)], f_a_size=list(f_a_size))
    from spact_mm.models.anonymizers.clip_utils import is_clip_level

    if is_clip_level(f_a) and data['privacy']['train'].clips.shape[2] == 1:
        audit['caveat'] = ('clip-level anonymizer on still images: it sees one-frame clips, so '
                           'these privacy figures say nothing about its output on videos')
        log(f"  WARNING: {audit['caveat']}")
    if raw is not None:
        audit['raw_audit'] = raw_audit
        attach_raw(audit, raw)
    elif anonymizer == 'raw':
        audit['drop_pct'] = {g: 0.0 for g in audit['worst_case']}
        audit['raw_worst_case'] = {g: v['cmap'] for g, v in audit['worst_case'].items()}
        if audit.get('action'):
            audit['raw_action'] = dict(action_top1=audit['action']['top1'])
    audit['verdict'] = verdict(audit)
    audit['seconds'] = round(time.time() - start, 1)
    os.makedirs(work_dir, exist_ok=True)
    _atomic_write(osp.join(work_dir, 'audit.json'), json.dumps(audit, indent=2) + '\n')
    _atomic_write(osp.join(work_dir, 'audit.md'), format_audit_markdown(audit))
    plot_audit(audit, osp.join(work_dir, 'audit.png'))
    log("  worst case: " + '  '.join(f"{g} cMAP {v['cmap']:.1f}"
                                     for g, v in audit['worst_case'].items()))
    log(f"  {audit['verdict']}")
    log(f"  -> {osp.join(work_dir, 'audit.json')} ({audit['seconds']:.0f} s)")
    return audit


