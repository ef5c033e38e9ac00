"""The face-centric synthetic benchmark: identity lives in the face, the action in the body.

A variant of the synthetic privacy-action videos for learned face
anonymization (Ren et al., ECCV 2018): one person per clip, seen from the
front at head-and-shoulders scale (96x96 frames by default, a face box of
about 30x40 px), doing one of four actions. Each of the recurring identities
of :func:`~spact_mm.datasets.synthetic.specs.sample_identities` (same seed,
same skin, hair colour, glasses and moustache) gets face-only features drawn
from a separate random stream: face shape, eye colour, hairstyle, beard,
eyebrows, nose and mouth. Everything outside the face box is drawn *without*
identity information (shirt, gloves, background, position and lighting are
drawn per clip), so whatever identity survives an anonymizer survives in the
face. Generation is deterministic in the seed and takes seconds.

Actions (:data:`FACE_ACTIONS`): ``wave`` (a hand waves beside the head),
``walk_left`` / ``walk_right`` (the whole person moves across the frame),
``nod`` (the head bobs up and down; the only action whose motion is in the face).

Files written under ``root`` (paths relative to it)::

    videos/faces/{train,val}/<name>.mp4
    annotations/face_videos_{train,val}.json  # PrivacyVideoDataset format, see below
    annotations/face_actions_{train,val}.txt  # "<path> <label>", RobustVideoDataset
    face_meta.json                            # parameters, identities, counts

``face_videos_*.json`` entries: ``filename``, action ``label``, ``gt_label``
(indices of the face attributes :data:`FACE_ATTRIBUTES` present), ``identity``
(the identity index) and ``face_boxes`` (per frame, a list of
``[x1, y1, x2, y2]`` boxes in pixels, x2/y2 exclusive: the bounding box of
everything drawn for the head, hair and beard included). The box is computed
from the drawn mask, so it is exact.
"""
import json
import os
import os.path as osp
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .drawing import write_video
from .specs import NUM_IDENTITIES, Color, sample_identities

FACE_ACTIONS: Tuple[str, ...] = ('wave', 'walk_left', 'walk_right', 'nod')
#: Face attributes (multi-hot ``gt_label`` of the annotations).
FACE_ATTRIBUTES: Tuple[str, ...] = ('skin_dark', 'glasses', 'beard', 'long_hair')
FACE_FORMAT_VERSION = 1
HAIRSTYLES: Tuple[str, ...] = ('short', 'long', 'bald', 'fringe')
_EYES: Tuple[Color, ...] = ((70, 45, 25), (60, 110, 190), (70, 140, 80), (120, 125, 130),
                            (20, 15, 12))
_BACKGROUNDS: Tuple[Color, ...] = ((170, 190, 210), (200, 200, 185), (120, 150, 120),
                                   (90, 95, 120), (215, 180, 150), (150, 150, 150))
_STREAM_FACES = 11  # np.random.default_rng([seed, 11]): face features of the identities
_STREAM_CLIPS = {'train': 12, 'val': 13}
_SS = 2  # supersampling factor of the drawing


@dataclass
class FaceIdentity:
    """One identity's face: colours from the shared pool, face-only features of its own."""

    index: int
    skin: Color
    hair: Color
    eyes: Color
    glasses: Optional[Color]
    moustache: bool
    beard: bool
    hairstyle: str
    aspect: float  # face height / width
    width: float  # face half-width, fraction of the frame
    brow: float  # eyebrow thickness, fraction of the face half-width
    nose: float  # nose length, fraction of the face half-height
    mouth: float  # mouth half-width, fraction of the face half-width
    skin_dark: bool

    @property
    def attributes(self) -> Dict[str, bool]:
        """``{name: bool}`` for :data:`FACE_ATTRIBUTES`."""
        return dict(skin_dark=self.skin_dark, glasses=self.glasses is not None,
                    beard=self.beard, long_hair=self.hairstyle == 'long')

    def describe(self) -> dict:
        """JSON-ready summary (``face_meta.json``)."""
        out = {k: v for k, v in self.__dict__.items()}
        for k in ('skin', 'hair', 'eyes', 'glasses'):
            if out[k] is not None:
                out[k] = [round(float(c), 1) for c in out[k]]
        for k in ('aspect', 'width', 'brow', 'nose', 'mouth'):
            out[k] = round(float(out[k]), 4)
        return out


def sample_face_identities(seed: int, num_identities: int = NUM_IDENTITIES
                           ) -> List[FaceIdentity]:
    """The face identities of the pool (deterministic in ``seed``).

    Skin, hair colour, glasses and moustache are those of
    :func:`sample_identities` (the privacy audit's pool, same ``seed``); the
    face-only features come from ``np.random.default_rng([seed, 11])``.
    """
    pool = sample_identities(seed, num_identities)
    rng = np.random.default_rng([seed, _STREAM_FACES])
    out = []
    for ident in pool:
        out.append(FaceIdentity(
            index=ident.index, skin=ident.colors['skin'], hair=ident.colors['hair'],
            eyes=_EYES[int(rng.integers(len(_EYES)))],
            glasses=ident.colors['glasses'] if ident.features['glasses'] else None,
            moustache=ident.features['moustache'], beard=bool(rng.random() < 0.35),
            hairstyle=HAIRSTYLES[int(rng.integers(len(HAIRSTYLES)))],
            aspect=float(rng.uniform(1.05, 1.4)), width=float(rng.uniform(0.12, 0.155)),
            brow=float(rng.uniform(0.06, 0.16)), nose=float(rng.uniform(0.15, 0.35)),
            mouth=float(rng.uniform(0.25, 0.5)), skin_dark=ident.attributes['skin_dark']))
    return out


def sample_face_clip(rng: np.random.Generator, identity: FaceIdentity, action: str) -> dict:
    """Per-clip parameters (no identity information): position, motion, colours, light."""
    return dict(
        identity=identity.index, action=action,
        cx=float(rng.uniform(0.4, 0.6)), cy=float(rng.uniform(0.3, 0.38)),
        scale=float(rng.uniform(0.93, 1.07)), phase=float(rng.uniform(0, 2 * np.pi)),
        shift=float(rng.uniform(0.22, 0.32)), speed=float(rng.uniform(1.5, 2.5)),
        shirt=tuple(float(v) for v in rng.uniform(20, 235, 3)),
        glove=tuple(float(v) for v in rng.uniform(20, 235, 3)),
        background=tuple(float(v) for v in np.clip(
            np.asarray(_BACKGROUNDS[int(rng.integers(len(_BACKGROUNDS)))])
            + rng.uniform(-15, 15, 3), 0, 255)),
        gain=float(rng.uniform(0.85, 1.15)), noise_seed=int(rng.integers(2**31)))


def _c(color: Color) -> Tuple[int, int, int]:
    return tuple(int(round(v)) for v in color)


def render_face_frame(ident: FaceIdentity, clip: dict, tau: float, size: int
                      ) -> Tuple[np.ndarray, List[float]]:
    """One frame (size x size x 3 uint8 RGB) at time ``tau`` in [0, 1] and its face box."""
    S = size * _SS
    img = np.empty((S, S, 3), np.uint8)
    img[:] = _c(clip['background'])
    head = np.zeros((S, S), np.uint8)
    act = clip['action']
    cx, cy = clip['cx'], clip['cy']
    if act in ('walk_left', 'walk_right'):
        d = -1 if act == 'walk_left' else 1
        cx = 0.5 + d * clip['shift'] * (tau - 0.5) * 2
    dy = 0.03 * np.sin(2 * np.pi * clip['speed'] * tau + clip['phase']) if act == 'nod' else 0.
    rx = ident.width * clip['scale'] * S
    ry = rx * ident.aspect
    hx, hy = cx * S, cy * S + dy * S
    # body: shoulders and torso (per-clip shirt) and hands (per-clip gloves), sized from the
    # clip's scale only, never from the identity's face
    rb = 0.135 * clip['scale'] * S
    body_top = cy * S + rb * 1.25
    cv2.ellipse(img, (int(cx * S), int(body_top + 0.5 * S)), (int(2.3 * rb), int(0.55 * S)),
                0, 180, 360, _c(clip['shirt']), -1, cv2.LINE_AA)
    cv2.rectangle(img, (int(cx * S - 2.3 * rb), int(body_top + 0.5 * S)),
                  (int(cx * S + 2.3 * rb), S), _c(clip['shirt']), -1)
    hand_r = int(0.35 * rb)
    if act == 'wave':
        wy = cy * S + rb * (0.4 + 0.6 * np.sin(2 * np.pi * clip['speed'] * tau + clip['phase']))
        cv2.circle(img, (int(cx * S + 2.6 * rb), int(wy)), hand_r, _c(clip['glove']), -1,
                   cv2.LINE_AA)
    else:
        for sx in (-1, 1):
            cv2.circle(img, (int(cx * S + sx * 2.0 * rb), int(body_top + 0.75 * S)), hand_r,
                       _c(clip['glove']), -1, cv2.LINE_AA)

    def both(draw):  # draw on the frame and on the head mask
        draw(img, None)
        draw(head, 255)

    ctr = (int(hx), int(hy))
    hair = _c(ident.hair)
    if ident.hairstyle == 'long':  # behind the head, down to the jaw
        both(lambda im, v: cv2.ellipse(im, ctr, (int(rx * 1.15), int(ry * 1.05)), 0, 0, 360,
                                       hair if v is None else v, -1, cv2.LINE_AA))
    both(lambda im, v: cv2.ellipse(im, ctr, (int(rx), int(ry)), 0, 0, 360,
                                   _c(ident.skin) if v is None else v, -1, cv2.LINE_AA))
    if ident.hairstyle != 'bald':
        top = 200 if ident.hairstyle == 'fringe' else 180
        both(lambda im, v: cv2.ellipse(im, ctr, (int(rx * 1.04), int(ry * 1.04)), 0, top,
                                       360 + (180 - top), hair if v is None else v, -1,
                                       cv2.LINE_AA))
        cv2.ellipse(img, (int(hx), int(hy - ry * 0.05)), (int(rx * 0.95), int(ry * 0.75)), 0,
                    180, 360, _c(ident.skin), -1, cv2.LINE_AA)  # forehead below the hairline
        if ident.hairstyle == 'fringe':
            cv2.rectangle(img, (int(hx - rx * 0.8), int(hy - ry * 0.75)),
                          (int(hx + rx * 0.8), int(hy - ry * 0.45)), hair, -1)
    if ident.beard:
        both(lambda im, v: cv2.ellipse(im, (int(hx), int(hy + ry * 0.35)),
                                       (int(rx * 0.85), int(ry * 0.7)), 0, 0, 180,
                                       hair if v is None else v, -1, cv2.LINE_AA))
    ey = hy - ry * 0.1
    for sx in (-1, 1):
        ex = hx + sx * rx * 0.42
        cv2.ellipse(img, (int(ex), int(ey)), (int(rx * 0.2), int(rx * 0.12)), 0, 0, 360,
                    (245, 245, 245), -1, cv2.LINE_AA)
        cv2.circle(img, (int(ex), int(ey)), max(1, int(rx * 0.1)), _c(ident.eyes), -1,
                   cv2.LINE_AA)
        bt = max(1, int(ident.brow * rx))
        cv2.line(img, (int(ex - rx * 0.22), int(ey - rx * 0.25)),
                 (int(ex + rx * 0.22), int(ey - rx * 0.25)), hair, bt, cv2.LINE_AA)
    if ident.glasses is not None:
        for sx in (-1, 1):
            cv2.circle(img, (int(hx + sx * rx * 0.42), int(ey)), int(rx * 0.28),
                       _c(ident.glasses), max(1, int(rx * 0.07)), cv2.LINE_AA)
        cv2.line(img, (int(hx - rx * 0.14), int(ey)), (int(hx + rx * 0.14), int(ey)),
                 _c(ident.glasses), max(1, int(rx * 0.07)), cv2.LINE_AA)
    nose_len = ident.nose * ry
    cv2.line(img, (int(hx), int(ey + rx * 0.1)), (int(hx), int(ey + rx * 0.1 + nose_len)),
             tuple(int(v * 0.75) for v in _c(ident.skin)), max(1, int(rx * 0.1)), cv2.LINE_AA)
    my = hy + ry * 0.5
    if ident.moustache:
        cv2.line(img, (int(hx - rx * 0.35), int(my - ry * 0.1)),
                 (int(hx + rx * 0.35), int(my - ry * 0.1)), hair, max(1, int(rx * 0.12)),
                 cv2.LINE_AA)
    cv2.ellipse(img, (int(hx), int(my)), (int(ident.mouth * rx), int(rx * 0.08)), 0, 0, 360,
                (150, 50, 60), -1, cv2.LINE_AA)
    # lighting and mild pixel noise (per clip and frame), then down to the output size
    img = np.clip(img.astype(np.float32) * clip['gain'], 0, 255)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng([clip['noise_seed'], int(round(tau * 1000))])
    small = np.clip(small + rng.normal(0, 2.0, small.shape), 0, 255).round().astype(np.uint8)
    ys, xs = np.nonzero(cv2.resize(head, (size, size), interpolation=cv2.INTER_AREA))
    box = [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)] \
        if len(xs) else []
    return small, box


def render_face_clip(ident: FaceIdentity, clip: dict, num_frames: int, size: int
                     ) -> Tuple[np.ndarray, List[List[List[float]]]]:
    """(T, size, size, 3) uint8 RGB frames and their per-frame face boxes."""
    frames, boxes = [], []
    for t in range(num_frames):
        f, b = render_face_frame(ident, clip, t / max(num_frames - 1, 1), size)
        frames.append(f)
        boxes.append([b] if b else [])
    return np.stack(frames), boxes


def _write_text(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.tmp')
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)  # atomic


def generate_face_dataset(root: str, seed: int = 0, clips_per_identity_action: int = 3,
                          val_clips_per_identity_action: int = 1, num_frames: int = 16,
                          size: int = 96, fps: int = 8, num_identities: int = NUM_IDENTITIES,
                          overwrite: bool = False) -> dict:
    """Write the face-centric synthetic benchmark under ``root`` (see the module docstring).

    Deterministic in all arguments. If ``root/face_meta.json`` records the same
    parameters, nothing is written and the recorded summary is returned (use
    ``overwrite`` to regenerate). Never touches the other synthetic datasets'
    files (they use other names).

    Returns:
        The summary stored in ``face_meta.json``.
    """
    params = dict(version=FACE_FORMAT_VERSION, seed=seed,
                  clips_per_identity_action=clips_per_identity_action,
                  val_clips_per_identity_action=val_clips_per_identity_action,
                  num_frames=num_frames, size=size, fps=fps, num_identities=num_identities)
    meta_path = osp.join(root, 'face_meta.json')
    if osp.isfile(meta_path) and not overwrite:
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get('params') == params:
            return meta
    identities = sample_face_identities(seed, num_identities)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    counts = {}
    for split, per in (('train', clips_per_identity_action),
                       ('val', val_clips_per_identity_action)):
        rng = np.random.default_rng([seed, _STREAM_CLIPS[split]])
        vdir = osp.join(root, 'videos', 'faces', split)
        os.makedirs(vdir, exist_ok=True)
        entries, lines = [], []
        for ident in identities:
            for label, action in enumerate(FACE_ACTIONS):
                for k in range(per):
                    clip = sample_face_clip(rng, ident, action)
                    frames, boxes = render_face_clip(ident, clip, num_frames, size)
                    name = f'id{ident.index:02d}_{action}_{k:02d}.mp4'
                    rel = osp.join('videos', 'faces', split, name)
                    fd, tmp = tempfile.mkstemp(dir=vdir, suffix='.mp4')
                    os.close(fd)
                    write_video(tmp, frames, fps)
                    os.replace(tmp, osp.join(root, rel))
                    attrs = ident.attributes
                    entries.append(dict(
                        filename=rel, label=label, identity=ident.index,
                        gt_label=[i for i, a in enumerate(FACE_ATTRIBUTES) if attrs[a]],
                        face_boxes=boxes))
                    lines.append(f'{rel} {label}')
        ann = dict(metainfo=dict(classes=list(FACE_ATTRIBUTES), actions=list(FACE_ACTIONS),
                                 num_identities=num_identities),
                   data_list=entries)
        _write_text(osp.join(root, 'annotations', f'face_videos_{split}.json'), json.dumps(ann))
        _write_text(osp.join(root, 'annotations', f'face_actions_{split}.txt'),
                    '\n'.join(lines) + '\n')
        counts[split] = len(entries)
    meta = dict(params=params, counts=counts, actions=list(FACE_ACTIONS),
                attributes=list(FACE_ATTRIBUTES),
                identities=[i.describe() for i in identities])
    _write_text(meta_path, json.dumps(meta, indent=1))
    return meta


def face_box_sizes(ann_file: str) -> Sequence[float]:
    """Shorter side (px) of every face box of an annotation file (a data check)."""
    with open(ann_file) as f:
        ann = json.load(f)
    return [min(b[2] - b[0], b[3] - b[1]) for e in ann['data_list'] for fb in e['face_boxes']
            for b in fb]
