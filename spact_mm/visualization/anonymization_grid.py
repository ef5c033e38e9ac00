"""Raw-versus-anonymized frame grids: the one place where they are drawn.

The demo, :class:`~spact_mm.engine.hooks.AnonymizationVisualizationHook` and
``tools/analysis_tools/visualize_anonymizer.py`` all draw their pictures of
f_A (Sec. 3.2.1) here. Hand-written: mmengine's and mmaction2's visualizers
draw labels on single frames, not frame grids of two versions of a clip.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch


def clip_frames(preprocessor, inputs: torch.Tensor) -> torch.Tensor:
    """Normalised batch of an ``AnonymizerDataPreprocessor`` -> (N, T, C, H, W) in [0, 1].

    NCTHW batches ``(N, M, C, T, H, W)`` / ``(N, C, T, H, W)`` keep the first
    view ``M``; NCHW batches ``(N, M, C, H, W)`` show their ``M`` frames
    (segments) as the clip, ``(N, C, H, W)`` a single frame.
    """
    if preprocessor.format_shape == 'NCTHW':
        x = preprocessor.to_unit(inputs, 3)
        if x.dim() == 6:
            x = x[:, 0]
        return x.movedim(-4, -3)
    x = preprocessor.to_unit(inputs, 2)
    return x if x.dim() == 5 else x.unsqueeze(1)


def anonymization_grid(raw: torch.Tensor, anonymized: torch.Tensor, num_clips: int = 4,
                       num_frames: int = 4, scale: int = 1) -> np.ndarray:
    """Draw a grid: per clip, a row of raw frames above a row of anonymized frames.

    Args:
        raw: Raw clips, (N, T, C, H, W), values in [0, 1], RGB.
        anonymized: f_A's output for the same clips, same shape.
        num_clips: At most this many clips (rows pairs) are drawn.
        num_frames: Frames per row, evenly spaced over T (fewer if T is smaller).
        scale: Integer nearest-neighbour upscaling of the whole grid.

    Returns:
        The grid as a uint8 RGB array of shape
        ``(2 * n * H * scale, num_frames * W * scale, 3)``.
    """
    if raw.shape != anonymized.shape or raw.dim() != 5:
        raise ValueError(f'expected two (N, T, C, H, W) tensors of one shape, got '
                         f'{tuple(raw.shape)} and {tuple(anonymized.shape)}')
    t = raw.shape[1]
    idx = np.unique(np.linspace(0, t - 1, min(num_frames, t)).round().astype(int))
    tiles = []
    for c in range(min(num_clips, raw.shape[0])):
        for clip in (raw[c], anonymized[c]):
            frames = [clip[i].detach().float().cpu().permute(1, 2, 0).clamp(0, 1).numpy()
                      for i in idx]
            tiles.append(np.concatenate(frames, axis=1))
    img = (np.concatenate(tiles, axis=0) * 255).round().astype(np.uint8)
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    if scale != 1:
        img = img.repeat(scale, axis=0).repeat(scale, axis=1)
    return img


def label_rows(img: np.ndarray, row_height: int, labels: Sequence[str],
               margin: int = 0) -> np.ndarray:
    """Add a white left margin naming each row of a grid, cycling through ``labels``.

    Args:
        img: RGB uint8 grid whose rows are ``row_height`` pixels high.
        row_height: Height of one row of frames (after scaling).
        labels: Names of consecutive rows, repeated (e.g. ``('raw', 'anonymized')``).
        margin: Margin width in pixels; 0 fits the longest label.

    Returns:
        The labelled grid, ``margin`` pixels wider.
    """
    import cv2

    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, max(0.3, min(0.5, row_height / 40)), 1
    if margin <= 0:
        margin = max(cv2.getTextSize(t, font, scale, thick)[0][0] for t in labels) + 8
    out = np.full((img.shape[0], img.shape[1] + margin, 3), 255, np.uint8)
    out[:, margin:] = img
    for r in range(img.shape[0] // row_height):
        text = labels[r % len(labels)]
        (_, th), _ = cv2.getTextSize(text, font, scale, thick)
        y = r * row_height + (row_height + th) // 2
        cv2.putText(out, text, (4, y), font, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out


def raw_and_anonymized(preprocessor, batch: Dict) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run an ``AnonymizerDataPreprocessor`` on a dataloader batch with and without f_A.

    Returns:
        ``(raw, anonymized)``, each (N, T, C, H, W) in [0, 1] (see :func:`clip_frames`).
    """
    with torch.no_grad():
        anonymized = preprocessor(dict(batch), False)['inputs']
        with preprocessor.bypassed():
            raw = preprocessor(dict(batch), False)['inputs']
    return clip_frames(preprocessor, raw), clip_frames(preprocessor, anonymized)


def batch_anonymization_grid(preprocessor, batch: Dict, num_clips: int = 4, num_frames: int = 4,
                             scale: int = 1, labels: Optional[Sequence[str]] = None
                             ) -> np.ndarray:
    """:func:`anonymization_grid` of a dataloader batch, as the model sees it.

    ``labels`` (e.g. ``('raw', 'anonymized')``) adds a margin naming the rows
    (:func:`label_rows`).
    """
    raw, anonymized = raw_and_anonymized(preprocessor, batch)
    grid = anonymization_grid(raw, anonymized, num_clips, num_frames, scale)
    if labels:
        grid = label_rows(grid, raw.shape[-2] * scale, labels)
    return grid


def save_grid(img: np.ndarray, path: str) -> str:
    """Write an RGB uint8 grid as a PNG (creating folders); returns ``path``."""
    import mmcv

    if not mmcv.imwrite(np.ascontiguousarray(img[..., ::-1]), path, auto_mkdir=True):
        raise OSError(f'could not write {path}')
    return path
