"""Apply any f_A to whole clips: per-frame (2D) and clip-level (temporal) anonymizers alike.

Most anonymizers of this toolbox (the UNet, Downsample, obfuscation) map frames
``(B, C, H, W)`` to frames. Some need the whole clip, because their output at a
frame depends on its neighbours in time (BDQ's frame difference, a motion-only
transform, STPrivacy's tubelets). Such a module declares the class attribute
``clip_level = True`` and maps clips ``(N, C, T, H, W)`` in [0, 1] to clips of
the same shape and range. :func:`anonymize_clips` is the one place that knows
the difference; the privacy audit and the data preprocessor call it.
"""
import torch
import torch.nn as nn


def is_clip_level(anonymizer: nn.Module) -> bool:
    """Whether ``anonymizer`` maps whole clips (N, C, T, H, W) rather than frames."""
    return bool(getattr(anonymizer, 'clip_level', False))


def anonymize_clips(anonymizer: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Run f_A on clips ``(N, C, T, H, W)`` in [0, 1]; returns the same shape.

    A per-frame anonymizer is applied to every frame (frames are folded into
    the batch); a clip-level one (``clip_level = True``) gets the clips as
    they are. Gradients flow as the caller's autograd mode allows.

    Args:
        anonymizer: f_A.
        clips: Tensor of shape (N, C, T, H, W), values in [0, 1].

    Returns:
        Anonymized clips, shape (N, C', T, H', W') as f_A returns them
        (C' = C, H' = H, W' = W for every anonymizer of this toolbox).
    """
    if clips.dim() != 5:
        raise ValueError(f'expected clips (N, C, T, H, W), got shape {tuple(clips.shape)}')
    if is_clip_level(anonymizer):
        return anonymizer(clips)
    n, c, t, h, w = clips.shape
    frames = clips.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
    out = anonymizer(frames)
    return out.reshape(n, t, *out.shape[1:]).permute(0, 2, 1, 3, 4)
