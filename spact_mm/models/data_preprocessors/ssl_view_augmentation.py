"""Per-view augmentation of the SSL views of f_B, before f_A (issue 12, item 1).

The authors' released code (DAVEISHAN/SPAct, ``anonymization_training/
dl_vispr_ssl.py``, ``vispr_ssl.augmentation``) makes the two positive views of
NT-Xent (Eq. 5) from one VISPR image with random augmentations, and f_A is then
applied to each view. Without them f_B only has to tell the two views apart
from the other samples by whatever f_A leaves, and f_A can win the game by
making the two views differ (the shortcut of issue 12: flicker that tracks the
person), because nothing teaches f_B that appearance, not pixel-exact identity,
is what the views share.

:class:`SSLViewAugmentation` draws, for each **pair** of views, the released
code's parameters:

- a random resized crop whose top-left corner is **shared** by the two views
  and whose side factor is drawn per view from ``U(0.6, 1)``, resized back to
  the input size;
- colour jitter, each op with its own probability: contrast 0.9-1.1
  (p = 0.125), hue +-0.05, saturation 0.9-1.1, brightness 0.9-1.1 (p = 0.15
  each);
- grayscale (p = 0.1), then gamma 0.85-1.15 (p = 0.75 given grayscale);
- horizontal flip (p = 0.5) and random erasing to 0 of a box of 9-18 px at
  112 px, i.e. 8-16 % of the side (p = 0.25). As in the released code one
  uniform number decides both (flip if ``u > 0.5``, erase if ``u < 0.25``),
  so an erased view is never flipped.

Why on tensors after batching, not in the data pipeline: the frame pairs of the
same-dataset protocol are chosen by the temporal sampler S_F from the batched
clips (:func:`~spact_mm.models.heads.ssl_privacy_head.sample_frame_pairs`), and
the two views share their crop corner, so the parameters are drawn per pair,
which the per-sample mmpretrain / mmaction2 pipeline transforms
(``RandomResizedCrop``, ``ColorJitter``, ...) cannot do. The image operations
themselves are torchvision's (``torchvision.transforms.v2.functional``); only
the parameter drawing is written here.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torchvision.transforms.v2.functional as TF

from spact_mm.registry import MODELS


def _uniform(low: float, high: float, generator: Optional[torch.Generator]) -> float:
    return float(low + (high - low) * torch.rand((), generator=generator))


@MODELS.register_module()
class SSLViewAugmentation(nn.Module):
    """Augment pairs of views (N, 2, C, H, W) in [0, 1], parameters drawn per pair.

    No parameters, no gradients: the views are raw frames or images, augmented
    before f_A (:class:`MinimaxAnonymizerDataPreprocessor`), as in the released
    code. Defaults are the released code's (module docstring).

    Args:
        crop_factor: Range of the crop side as a fraction of the input side;
            ``None`` turns the crop off.
        contrast: ``(probability, low, high)`` of the contrast change.
        hue: ``(probability, low, high)`` of the hue shift (fraction of a turn).
        saturation: ``(probability, low, high)`` of the saturation factor.
        brightness: ``(probability, low, high)`` of the brightness factor.
        grayscale_prob: Probability of converting to grayscale (3 channels).
        gamma: ``(probability given grayscale, low, high)`` of a gamma change.
        flip_prob: Probability of a horizontal flip.
        erase_prob: Probability of erasing a box to 0 (exclusive with the flip
            when ``flip_prob + erase_prob <= 1``, as in the released code).
        erase_size: Range of the erased box's height and width as fractions
            of the input side (drawn independently).
    """

    def __init__(self,
                 crop_factor: Optional[Tuple[float, float]] = (0.6, 1.0),
                 contrast: Tuple[float, float, float] = (0.125, 0.9, 1.1),
                 hue: Tuple[float, float, float] = (0.15, -0.05, 0.05),
                 saturation: Tuple[float, float, float] = (0.15, 0.9, 1.1),
                 brightness: Tuple[float, float, float] = (0.15, 0.9, 1.1),
                 grayscale_prob: float = 0.1,
                 gamma: Tuple[float, float, float] = (0.75, 0.85, 1.15),
                 flip_prob: float = 0.5,
                 erase_prob: float = 0.25,
                 erase_size: Tuple[float, float] = (9 / 112, 18 / 112)) -> None:
        super().__init__()
        for name, value in dict(contrast=contrast, hue=hue, saturation=saturation,
                                brightness=brightness, gamma=gamma).items():
            if len(value) != 3 or not 0 <= value[0] <= 1 or value[1] > value[2]:
                raise ValueError(f'{name} must be (probability in [0, 1], low, high) with '
                                 f'low <= high, got {value}')
        for name, p in dict(grayscale_prob=grayscale_prob, flip_prob=flip_prob,
                            erase_prob=erase_prob).items():
            if not 0 <= p <= 1:
                raise ValueError(f'{name} must be in [0, 1], got {p}')
        if crop_factor is not None and not 0 < crop_factor[0] <= crop_factor[1] <= 1:
            raise ValueError(f'crop_factor must be 0 < low <= high <= 1, got {crop_factor}')
        if not 0 < erase_size[0] <= erase_size[1] <= 1:
            raise ValueError(f'erase_size must be 0 < low <= high <= 1, got {erase_size}')
        self.crop_factor = None if crop_factor is None else tuple(crop_factor)
        self.colour = (('contrast', tuple(contrast), TF.adjust_contrast),
                       ('hue', tuple(hue), TF.adjust_hue),
                       ('saturation', tuple(saturation), TF.adjust_saturation),
                       ('brightness', tuple(brightness), TF.adjust_brightness))
        self.grayscale_prob = grayscale_prob
        self.gamma = tuple(gamma)
        self.flip_prob = flip_prob
        self.erase_prob = erase_prob
        self.erase_size = tuple(erase_size)

    def augment_view(self, img: torch.Tensor, corner: Tuple[float, float],
                     generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """One view (C, H, W) in [0, 1]; ``corner`` is the pair's crop corner in [0, 1)^2."""
        c, h, w = img.shape
        if self.crop_factor is not None:
            f = _uniform(*self.crop_factor, generator)
            ch, cw = max(1, int(h * f)), max(1, int(w * f))
            top, left = int(corner[0] * (h - ch + 1)), int(corner[1] * (w - cw + 1))
            img = TF.resized_crop(img, top, left, ch, cw, [h, w], antialias=True)
        for _, (p, low, high), op in self.colour:
            if torch.rand((), generator=generator) < p:
                img = op(img, _uniform(low, high, generator))
        if c == 3 and torch.rand((), generator=generator) < self.grayscale_prob:
            img = TF.rgb_to_grayscale(img, num_output_channels=3)
            if torch.rand((), generator=generator) < self.gamma[0]:
                img = TF.adjust_gamma(img, _uniform(*self.gamma[1:], generator))
        u = float(torch.rand((), generator=generator))
        if u > 1 - self.flip_prob:
            img = TF.horizontal_flip(img)
        if u < self.erase_prob:
            eh = max(1, round(h * _uniform(*self.erase_size, generator)))
            ew = max(1, round(w * _uniform(*self.erase_size, generator)))
            i = int(torch.randint(h, (), generator=generator))
            j = int(torch.randint(w, (), generator=generator))
            img = TF.erase(img, i, j, eh, ew, torch.zeros(()))  # slicing clips at the border
        return img.clamp(0, 1)

    @torch.no_grad()
    def forward(self, views: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Augment every view of ``views`` (N, V, C, H, W), V >= 1, values in [0, 1].

        The V views of one row share the crop corner; every other parameter is
        drawn per view. Returns a new tensor of the same shape and dtype.
        """
        if views.dim() != 5:
            raise ValueError(f'expected views of shape (N, V, C, H, W), got {tuple(views.shape)}')
        out = torch.empty_like(views)
        for n in range(views.shape[0]):
            corner = (float(torch.rand((), generator=generator)),
                      float(torch.rand((), generator=generator)))
            for v in range(views.shape[1]):
                out[n, v] = self.augment_view(views[n, v], corner, generator)
        return out

    def extra_repr(self) -> str:
        parts: Sequence[str] = [f'crop_factor={self.crop_factor}'] + [
            f'{name}={cfg}' for name, cfg, _ in self.colour] + [
            f'grayscale_prob={self.grayscale_prob}', f'gamma={self.gamma}',
            f'flip_prob={self.flip_prob}', f'erase_prob={self.erase_prob}',
            f'erase_size={self.erase_size}']
        return ', '.join(parts)
