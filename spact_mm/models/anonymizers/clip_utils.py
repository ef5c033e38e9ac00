"""Apply any f_A to whole clips: per-frame (2D) and clip-level (temporal) anonymizers alike.

Most anonymizers of this toolbox (the UNet, Downsample, obfuscation) map frames
``(B, C, H, W)`` to frames. Some need the whole clip, because their output at a
frame depends on its neighbours in time (BDQ's frame difference, a motion-only
transform, STPrivacy's tubelets). Such a module declares the class attribute
``clip_level = True`` and maps clips ``(N, C, T, H, W)`` in [0, 1] to clips of
the same shape and range. :func:`anonymize_clips` is the one place that knows
the difference; the privacy audit and the data preprocessor call it.

Still images (and frames taken out of their video) have no time axis: for a
clip-level f_A, :func:`anonymize_images` treats each one as a clip of one
frame. A temporal f_A then sees no motion at all, and a frame-difference
anonymizer (BDQ, motion-only) outputs a constant frame for every still
(:func:`frame_difference` of a one-frame clip is zero). That is what such an
f_A really does to a photograph, but it makes a privacy attacker trained on
stills (the cross-dataset protocol's privacy images, or single decoded frames)
trivially blind: to judge a temporal f_A, anonymize whole clips and show the
attacker frames of the anonymized clips.
"""
import torch
import torch.nn as nn

#: How :func:`frame_difference` fills the first frame (which has no predecessor).
FIRST_FRAME_MODES = ('repeat', 'zero', 'wrap')


def is_clip_level(anonymizer: nn.Module) -> bool:
    """Whether ``anonymizer`` maps whole clips (N, C, T, H, W) rather than frames."""
    return bool(getattr(anonymizer, 'clip_level', False))


def anonymize_clips(anonymizer: nn.Module, clips: torch.Tensor, **kwargs) -> torch.Tensor:
    """Run f_A on clips ``(N, C, T, H, W)`` in [0, 1]; returns the same shape.

    A per-frame anonymizer is applied to every frame (frames are folded into
    the batch, clip by clip, frame by frame); a clip-level one
    (``clip_level = True``) gets the clips as they are. Gradients flow as the
    caller's autograd mode allows.

    Args:
        anonymizer: f_A.
        clips: Tensor of shape (N, C, T, H, W), values in [0, 1].
        **kwargs: Passed on to f_A (e.g. a face f_A's per-frame ``boxes``, in
            the folded frame order).

    Returns:
        Anonymized clips, shape (N, C', T, H', W') as f_A returns them
        (C' = C, H' = H, W' = W for every anonymizer of this toolbox).
    """
    if clips.dim() != 5:
        raise ValueError(f'expected clips (N, C, T, H, W), got shape {tuple(clips.shape)}')
    if is_clip_level(anonymizer):
        return anonymizer(clips, **kwargs)
    n, c, t, h, w = clips.shape
    frames = clips.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
    out = anonymizer(frames, **kwargs)
    return out.reshape(n, t, *out.shape[1:]).permute(0, 2, 1, 3, 4)


def anonymize_images(anonymizer: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Run f_A on images / single frames ``(B, C, H, W)`` in [0, 1].

    A per-frame anonymizer gets them as they are; a clip-level one gets each
    image as a one-frame clip ``(B, C, 1, H, W)`` (see the module docstring:
    a frame-difference anonymizer returns a constant frame for a still).

    Args:
        anonymizer: f_A.
        images: Tensor of shape (B, C, H, W), values in [0, 1].

    Returns:
        Anonymized images, shape (B, C', H', W').
    """
    if images.dim() != 4:
        raise ValueError(f'expected images (B, C, H, W), got shape {tuple(images.shape)}')
    if is_clip_level(anonymizer):
        return anonymizer(images.unsqueeze(2)).squeeze(2)
    return anonymizer(images)


def frame_difference(clips: torch.Tensor, first_frame: str = 'repeat') -> torch.Tensor:
    """Temporal difference of clips ``(N, C, T, H, W)``: D_t = x_t - x_{t-1}.

    For t = 1..T-1 this is the difference of consecutive frames (BDQ's "D"
    step; the released code computes it as ``x - torch.roll(x, 1, dims=2)``
    and then drops frame 0, returning T - 1 frames). Here the output keeps T
    frames, so that f_A maps a clip to a clip of the same length (what the
    recognizers, the audit and ``anonymize_video`` expect); frame 0, which
    has no predecessor, is:

    - ``'repeat'``: D_0 = D_1, a copy of the first true difference; the T - 1
      distinct frames are exactly the released code's output;
    - ``'zero'``: D_0 = 0 (no motion);
    - ``'wrap'``: D_0 = x_0 - x_{T-1}, the wrap-around frame of ``torch.roll``
      that the released code discards (it mixes the clip's two ends).

    A one-frame clip (T = 1) has no motion: D_0 = 0 in every mode.

    Args:
        clips: Tensor (N, C, T, H, W).
        first_frame: One of :data:`FIRST_FRAME_MODES`.

    Returns:
        D, same shape as ``clips``; values in [-1, 1] for clips in [0, 1].
    """
    if first_frame not in FIRST_FRAME_MODES:
        raise ValueError(f'first_frame must be one of {FIRST_FRAME_MODES}, got {first_frame!r}')
    if clips.dim() != 5:
        raise ValueError(f'expected clips (N, C, T, H, W), got shape {tuple(clips.shape)}')
    if clips.shape[2] == 1:
        return torch.zeros_like(clips)
    if first_frame == 'wrap':
        return clips - torch.roll(clips, 1, dims=2)
    diff = clips[:, :, 1:] - clips[:, :, :-1]
    first = diff[:, :, :1] if first_frame == 'repeat' else torch.zeros_like(diff[:, :, :1])
    return torch.cat([first, diff], dim=2)


class FixedReference(nn.Module):
    """A parameter-free f_A applied to raw clips as a training reference (an "anchor").

    The stages of SPAct compare f_A's output with the raw clip X: stage 1 trains
    f_A to reproduce X (Eq. 4), and the temporal-consistency penalty compares f_A's
    frame differences with X's. With an anchor R (e.g. the motion-only baseline),
    both compare with R(X) instead: stage 1 starts f_A at R rather than at the
    identity, and the penalty keeps f_A's motion at R's (a remedy of ours, not the
    paper's). The anchor has no weights, runs without gradients and keeps the
    input's layout.

    Args:
        anchor: Config of a registered f_A without parameters (built in the
            ``spact_mm`` scope), e.g. ``dict(type='MotionOnlyAnonymizer')``.
    """

    def __init__(self, anchor: dict) -> None:
        super().__init__()
        from mmengine.registry import DefaultScope

        from spact_mm.registry import MODELS

        with DefaultScope.overwrite_default_scope('spact_mm'):
            self.anchor = MODELS.build(dict(anchor))
        if any(True for _ in self.anchor.parameters()):
            raise ValueError(f'an anchor must have no parameters (it is a fixed reference); '
                             f'{type(self.anchor).__name__} has some')
        self.anchor.eval()

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """R(X) of clips ``(..., C, T, H, W)`` in [0, 1]; same shape, no gradient."""
        if clips.dim() < 5:
            raise ValueError(f'expected clips (..., C, T, H, W), got shape {tuple(clips.shape)}')
        with torch.no_grad():
            out = anonymize_clips(self.anchor, clips.reshape(-1, *clips.shape[-4:]))
        return out.reshape(clips.shape)

    def train(self, mode: bool = True) -> 'FixedReference':
        """The anchor stays in eval mode."""
        super().train(mode)
        self.anchor.eval()
        return self
