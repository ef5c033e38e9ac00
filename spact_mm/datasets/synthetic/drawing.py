"""Drawing a synthetic clip: the action as a pose over time, the person and the scene
with ``cv2`` primitives, and writing the frames to a video file.

Hand-written because no library generates videos with controlled, independent action
and privacy labels (see the package docstring).
"""
import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

from .specs import VIDEO_FOURCC, ClipSpec, Color


# ----------------------------------------------------------------------------
# Motion: spec + time -> pose
# ----------------------------------------------------------------------------
@dataclass
class _Pose:
    """Pose of the person in one frame (fractions of the frame; angles in degrees).

    Limb angles are measured from straight down, positive towards +x.
    """

    cx: float
    feet_y: float
    scale: float
    crouch: float = 0.0  # fraction of the leg length the hip drops
    leg_l: float = 0.0
    leg_r: float = 0.0
    arm_l: float = -15.0
    arm_r: float = 15.0


def _pose(spec: ClipSpec, tau: float) -> _Pose:
    """Pose at normalised time ``tau`` in [0, 1]: the action is entirely here."""
    m, a = spec.motion, spec.action
    pose = _Pose(cx=m['x0'], feet_y=m['y0'], scale=m['scale'],
                 arm_l=-m['arm_rest'], arm_r=m['arm_rest'])
    wave = math.sin(2 * math.pi * m['cycles'] * tau + m['phase'])
    if a in ('walk_right', 'walk_left', 'walk_diagonal'):
        pose.cx = m['x0'] + m['direction'] * m['distance'] * tau
        pose.leg_l, pose.leg_r = m['swing'] * wave, -m['swing'] * wave
        pose.arm_l = -m['arm_rest'] - 0.8 * m['swing'] * wave
        pose.arm_r = m['arm_rest'] - 0.8 * m['swing'] * wave
        if a == 'walk_diagonal':
            pose.feet_y = m['y0'] + m['vdir'] * 0.1 * tau
    elif a == 'jump':
        height = abs(math.sin(math.pi * m['cycles'] * tau + m['phase']))
        pose.feet_y = m['y0'] - m['amplitude'] * height
        pose.leg_l, pose.leg_r = -4.0, 4.0
        pose.arm_l, pose.arm_r = -(m['arm_rest'] + 110 * height), m['arm_rest'] + 110 * height
    elif a == 'wave':
        angle = 145 + m['swing'] * wave
        if m['direction'] > 0:
            pose.arm_r = angle
        else:
            pose.arm_l = -angle
    elif a == 'crouch':
        pose.crouch = m['depth'] * 0.5 * (1 - math.cos(2 * math.pi * m['cycles'] * tau
                                                       + m['phase']))
    elif a == 'approach':
        pose.scale = m['scale'] * (1 + (m['growth'] - 1) * tau)
        pose.feet_y = m['y0'] + (m['y1'] - m['y0']) * tau
    elif a == 'spin_arms':
        angle = m['phase'] + m['direction'] * 360 * m['cycles'] * tau
        pose.arm_l, pose.arm_r = -angle, angle
    return pose


# ----------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------
_SHIFT = 4  # sub-pixel precision of cv2 drawing calls: coordinates * 2**_SHIFT
_AA = cv2.LINE_AA


def _pt(x: float, y: float) -> Tuple[int, int]:
    return int(round(x * (1 << _SHIFT))), int(round(y * (1 << _SHIFT)))


def _rect(img: np.ndarray, x1: float, y1: float, x2: float, y2: float, color) -> None:
    pts = np.array([_pt(x1, y1), _pt(x2, y1), _pt(x2, y2), _pt(x1, y2)], np.int32)
    cv2.fillConvexPoly(img, pts, color, _AA, _SHIFT)


def _line(img: np.ndarray, p: Tuple[float, float], q: Tuple[float, float], color,
          thickness: float) -> None:
    cv2.line(img, _pt(*p), _pt(*q), color, max(1, int(round(thickness))), _AA, _SHIFT)


def _circle(img: np.ndarray, c: Tuple[float, float], r: float, color) -> None:
    cv2.circle(img, _pt(*c), int(round(r * (1 << _SHIFT))), color, -1, _AA, _SHIFT)


_EYES: Color = (25, 20, 20)


def _draw_person(canvases: Sequence[Tuple[np.ndarray, Optional[Dict[str, Color]]]],
                 pose: _Pose, hat: bool, size: int,
                 build: Optional[Mapping[str, float]] = None,
                 features: Optional[Mapping[str, bool]] = None) -> None:
    """Draw the person on each canvas: in its colours, or in 255 for a mask (colors None).

    ``build`` and ``features`` are the identity's (:class:`Identity`). Hair,
    shoes, glasses and the stripe are drawn only when the colours name them
    (a hand-made spec may lack them); eyes always.
    """
    build, features = build or {}, features or {}
    s = float(size)
    height = 0.5 * s * pose.scale * build.get('height', 1.0)
    width = build.get('width', 1.0)
    cx, feet = pose.cx * s, pose.feet_y * s
    leg_len = 0.4 * height
    # hip height: the lower foot touches the ground; a crouch lowers the hip
    reach = leg_len * max(math.cos(math.radians(pose.leg_l)), math.cos(math.radians(pose.leg_r)))
    v = reach - pose.crouch * leg_len
    hip_y = feet - v
    top = hip_y - 0.6 * height
    r = 0.13 * height
    shoulder_y = top + 2 * r + 0.03 * height
    half_w = 0.14 * height * width
    # which optional parts to draw: the same on every canvas (the mask follows the image)
    named = set().union(*(col for _, col in canvases if col is not None))
    shoes, hair = 'shoes' in named, 'hair' in named
    glasses = bool(features.get('glasses')) and 'glasses' in named
    stripe = bool(features.get('stripe')) and 'stripe' in named
    for img, col in canvases:
        def c(name: str, _col=col):
            if _col is None:
                return (255,)
            return _col.get('eyes', _EYES) if name == 'eyes' else _col[name]
        # legs (trousers) and shoes
        feet_pts = []
        for side, angle in ((-1, pose.leg_l), (1, pose.leg_r)):
            hip = (cx + side * 0.065 * height * width, hip_y)
            if pose.crouch > 0:  # bent knees pointing outwards, feet on the ground
                foot = (hip[0] + side * 0.02 * height, feet)
                half = math.hypot(foot[0] - hip[0], foot[1] - hip[1]) / 2
                out = math.sqrt(max((leg_len / 2) ** 2 - half ** 2, 0.0))
                knee = ((hip[0] + foot[0]) / 2 + side * out, (hip[1] + foot[1]) / 2)
                _line(img, hip, knee, c('trousers'), 0.09 * height * width)
                _line(img, knee, foot, c('trousers'), 0.09 * height * width)
            else:
                rad = math.radians(angle)
                foot = (hip[0] + leg_len * math.sin(rad), hip[1] + leg_len * math.cos(rad))
                _line(img, hip, foot, c('trousers'), 0.09 * height * width)
            feet_pts.append(foot)
        if shoes:  # identity-only: shoe colour
            for fx, fy in feet_pts:
                _line(img, (fx - 0.05 * height, fy), (fx + 0.05 * height, fy), c('shoes'),
                      0.07 * height)
        # torso (shirt)
        _rect(img, cx - half_w, shoulder_y - 0.01 * height, cx + half_w, hip_y + 0.02 * height,
              c('shirt'))
        if stripe:  # identity-only: a band across the chest
            _rect(img, cx - half_w, shoulder_y + 0.1 * height, cx + half_w,
                  shoulder_y + 0.2 * height, c('stripe'))
        if hair and features.get('long_hair'):  # identity-only: hair down to the shoulders
            _rect(img, cx - 1.2 * r, top + 0.6 * r, cx + 1.2 * r, top + 2.5 * r, c('hair'))
        # arms (bare, skin), in front of the hair: appearance never hides the motion
        for side, angle in ((-1, pose.arm_l), (1, pose.arm_r)):
            shoulder = (cx + side * half_w, shoulder_y + 0.02 * height)
            rad = math.radians(angle)
            hand = (shoulder[0] + 0.34 * height * math.sin(rad),
                    shoulder[1] + 0.34 * height * math.cos(rad))
            _line(img, shoulder, hand, c('skin'), 0.08 * height * width)
        head = (cx, top + r)
        # head (skin), hair over its upper half, face, hat
        _circle(img, head, r, c('skin'))
        if hair:  # identity-only: hair colour (a half disc over the head)
            cv2.ellipse(img, _pt(*head), _pt(1.04 * r, 1.04 * r), 0, 180, 360, c('hair'), -1,
                        _AA, _SHIFT)
        eye_y = top + 1.15 * r
        for side in (-1, 1):  # eyes: drawn for everyone
            _circle(img, (cx + side * 0.42 * r, eye_y), 0.16 * r, c('eyes'))
        if glasses:  # identity-only: a bar across the eyes
            _line(img, (cx - 0.8 * r, eye_y), (cx + 0.8 * r, eye_y), c('glasses'), 0.22 * r)
        if hair and features.get('moustache'):  # identity-only: in the hair colour
            _line(img, (cx - 0.38 * r, top + 1.55 * r), (cx + 0.38 * r, top + 1.55 * r),
                  c('hair'), 0.22 * r)
        if hat:
            _rect(img, cx - 0.85 * r, top - 0.55 * r, cx + 0.85 * r, top + 0.3 * r, c('hat'))
            _rect(img, cx - 1.45 * r, top + 0.12 * r, cx + 1.45 * r, top + 0.42 * r, c('hat'))


def _render_background(spec: ClipSpec, size: int) -> np.ndarray:
    """The static scene (background and objects), uint8 RGB, before jitter and noise."""
    s, col, lay, att = float(size), spec.colors, spec.layout, spec.attributes
    img = np.empty((size, size, 3), np.uint8)
    horizon = int(round(lay['horizon'] * s))
    rows = np.arange(size, dtype=np.float64)[:, None]
    if att['outdoor']:  # sky gradient over grass with darker tufts
        w = np.clip(rows / max(horizon - 1, 1), 0, 1)
        sky = (1 - w) * np.asarray(col['sky_top']) + w * np.asarray(col['sky_bottom'])
        img[:horizon] = np.round(sky[:horizon, None, :]).astype(np.uint8)
        img[horizon:] = np.round(col['grass']).astype(np.uint8)
        tufts = np.random.default_rng([spec.noise_seed, 7]).random((size - horizon, size)) < 0.12
        img[horizon:][tufts] = np.round(np.asarray(col['grass']) * 0.75).astype(np.uint8)
    else:  # striped wall over a wooden floor with plank lines
        period = max(lay['stripe'] * s, 2.0)
        xs = np.arange(size)
        stripes = (np.floor(xs / period) % 2).astype(bool)
        img[:horizon] = np.round(col['wall_a']).astype(np.uint8)
        img[:horizon, stripes] = np.round(col['wall_b']).astype(np.uint8)
        img[horizon:] = np.round(col['floor']).astype(np.uint8)
        plank = max(int(round(0.08 * s)), 2)
        img[horizon::plank] = np.round(np.asarray(col['floor']) * 0.7).astype(np.uint8)
        img[horizon] = np.round(np.asarray(col['wall_b']) * 0.6).astype(np.uint8)  # skirting
    # objects stay in regions the person never enters (left / right margin, top band)
    if att['tree']:
        tx, top, rad = lay['tree_x'] * s, lay['tree_top'] * s, lay['tree_radius'] * s
        _rect(img, tx - 0.025 * s, top + rad, tx + 0.025 * s, 0.88 * s, col['trunk'])
        _circle(img, (tx, top + rad), rad, col['canopy'])
        _circle(img, (tx, top + 1.9 * rad), 0.8 * rad, col['canopy'])
    if att['car']:
        x1, y2 = lay['car_x'] * s, lay['car_y'] * s
        x2 = x1 + 0.19 * s
        _rect(img, x1, y2 - 0.11 * s, x2, y2 - 0.03 * s, col['car'])  # body
        _rect(img, x1 + 0.04 * s, y2 - 0.17 * s, x2 - 0.04 * s, y2 - 0.1 * s, col['car'])  # cabin
        _rect(img, x1 + 0.06 * s, y2 - 0.155 * s, x2 - 0.06 * s, y2 - 0.11 * s,
              (60, 90, 120))  # window
        for wx in (x1 + 0.045 * s, x2 - 0.045 * s):
            _circle(img, (wx, y2 - 0.03 * s), 0.03 * s, (15, 15, 15))
    if att['lamp']:
        lx, ly = lay['lamp_x'] * s, lay['lamp_y'] * s
        _line(img, (lx, 0), (lx, ly), (40, 40, 40), 0.02 * s)
        pts = np.array([_pt(lx - 0.03 * s, ly), _pt(lx + 0.03 * s, ly),
                        _pt(lx + 0.08 * s, ly + 0.07 * s), _pt(lx - 0.08 * s, ly + 0.07 * s)],
                       np.int32)
        cv2.fillConvexPoly(img, pts, col['lamp'], _AA, _SHIFT)
        _circle(img, (lx, ly + 0.085 * s), 0.025 * s, (255, 245, 200))
    return img


def _finish(spec: ClipSpec, img: np.ndarray, t: int) -> np.ndarray:
    """Colour jitter plus static and per-frame Gaussian noise, back to uint8."""
    size = img.shape[0]
    static = np.random.default_rng([spec.noise_seed, 0]).normal(0, 3.0, (size, size, 3))
    frame = np.random.default_rng([spec.noise_seed, 1, t]).normal(0, 2.0, (size, size, 3))
    out = img.astype(np.float64) * np.asarray(spec.gain) + spec.offset + static + frame
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _box(mask: np.ndarray) -> List[int]:
    """Tight ``[x1, y1, x2, y2]`` of the non-zero pixels, ``x2``/``y2`` exclusive."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return [0, 0, 0, 0]
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def render_frame(spec: ClipSpec, t: int, num_frames: int, size: int, with_person: bool = True,
                 background: Optional[np.ndarray] = None
                 ) -> Tuple[np.ndarray, Optional[List[int]]]:
    """Render frame ``t`` of a ``num_frames``-frame clip.

    Args:
        spec (ClipSpec): The clip.
        t (int): Frame index in ``[0, num_frames)``.
        num_frames (int): Clip length (time is normalised over it).
        size (int): Frame side in pixels.
        with_person (bool): Draw the person; ``False`` renders the background
            only, with the very same jitter and noise. Defaults to True.
        background (np.ndarray, optional): A cached :func:`_render_background`.

    Returns:
        tuple: ``(frame, box)``: uint8 RGB ``size x size x 3`` frame and the
        person's tight box ``[x1, y1, x2, y2]`` (ints, ``x2``/``y2``
        exclusive, so ``frame[y1:y2, x1:x2]`` is the crop), or ``None``
        without a person.
    """
    img = (_render_background(spec, size) if background is None else background).copy()
    box = None
    if with_person:
        mask = np.zeros((size, size), np.uint8)
        pose = _pose(spec, t / max(num_frames - 1, 1))
        _draw_person([(img, spec.colors), (mask, None)], pose, spec.attributes['hat'], size,
                     spec.build, spec.features)
        box = _box(mask)
    return _finish(spec, img, t), box


def render_clip(spec: ClipSpec, num_frames: int, size: int, with_person: bool = True
                ) -> Tuple[np.ndarray, Optional[List[List[int]]]]:
    """Render a whole clip.

    Args:
        spec (ClipSpec): The clip.
        num_frames (int): Number of frames.
        size (int): Frame side in pixels.
        with_person (bool): Draw the person. Defaults to True.

    Returns:
        tuple: ``(frames, boxes)``: uint8 RGB array ``T x size x size x 3`` and
        one box per frame (see :func:`render_frame`), or ``None`` without a person.
    """
    background = _render_background(spec, size)
    frames, boxes = [], []
    for t in range(num_frames):
        frame, box = render_frame(spec, t, num_frames, size, with_person, background)
        frames.append(frame)
        boxes.append(box)
    return np.stack(frames), (boxes if with_person else None)


def write_video(path: str, frames: np.ndarray, fps: int) -> None:
    """Write uint8 RGB frames to an mp4 file with ``cv2.VideoWriter`` (:data:`VIDEO_FOURCC`).

    decord 0.6 reads such a file back frame-exactly (count, size, random access);
    colours come back within a few grey levels (the writer takes no quality setting).

    Args:
        path (str): Output ``.mp4`` path.
        frames (np.ndarray): ``T x H x W x 3`` uint8 RGB frames.
        fps (int): Frame rate stored in the file.

    Raises:
        RuntimeError: If OpenCV cannot open a writer for the codec.
    """
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*VIDEO_FOURCC), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'cv2.VideoWriter cannot write {VIDEO_FOURCC!r} to {path}')
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))
    finally:
        writer.release()
