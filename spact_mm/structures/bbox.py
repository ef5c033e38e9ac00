"""Box-wise obfuscation of a frame: blackening, strong or weak blur (Sec. 5.2, obfuscation).

Shared by the obfuscation baseline f_A
(:class:`~spact_mm.models.anonymizers.baselines.PersonObfuscationAnonymizer`, detected
boxes) and the pipeline transform ``ObfuscatePersons`` (ground-truth boxes), so it lives
below both ``models`` and ``datasets``. Hand-written (a few lines of OpenCV): neither
mmaction2 nor mmpretrain has a box-wise blackening / blurring transform.
"""
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

__all__ = ['OBFUSCATION_MODES', 'obfuscate_boxes']

#: Obfuscation modes and their Gaussian sigma as a fraction of the frame's
#: longer side (``None``: blackening). The paper gives no sigma; ours are
#: chosen so that "strong" hides the person's colours at 32x32 and "weak"
#: leaves them recognisable.
OBFUSCATION_MODES: Dict[str, Optional[float]] = dict(
    blacken=None, strong_blur=0.08, weak_blur=0.025)


def obfuscate_boxes(frame: np.ndarray, boxes: Sequence[Sequence[float]], mode: str) -> np.ndarray:
    """Blacken or blur the given boxes of one frame (Sec. 5.2, obfuscation).

    Args:
        frame: (H, W, C) frame, uint8 or float.
        boxes: ``[x1, y1, x2, y2]`` boxes in pixels (``x2``/``y2`` exclusive),
            clipped to the frame.
        mode: One of :data:`OBFUSCATION_MODES`.

    Returns:
        A new frame of the same shape and dtype.
    """
    if mode not in OBFUSCATION_MODES:
        raise ValueError(f'obfuscation mode must be one of {list(OBFUSCATION_MODES)}, got {mode!r}')
    out = frame.copy()
    boxes = [b for b in boxes if b is not None and len(b) == 4]
    if not boxes:
        return out
    h, w = frame.shape[:2]
    sigma_frac = OBFUSCATION_MODES[mode]
    blurred = None
    if sigma_frac is not None:
        sigma = sigma_frac * max(h, w)
        blurred = cv2.GaussianBlur(frame, (0, 0), sigmaX=sigma, sigmaY=sigma,
                                   borderType=cv2.BORDER_REFLECT)
    for x1, y1, x2, y2 in boxes:
        x1, y1 = max(int(round(x1)), 0), max(int(round(y1)), 0)
        x2, y2 = min(int(round(x2)), w), min(int(round(y2)), h)
        if x2 <= x1 or y2 <= y1:
            continue
        out[y1:y2, x1:x2] = 0 if blurred is None else blurred[y1:y2, x1:x2]
    return out
