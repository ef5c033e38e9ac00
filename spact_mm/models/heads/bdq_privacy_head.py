"""BDQ's privacy branch (Kumawat & Nagahara, ECCV 2022): entropy through gradient reversal.

BDQ trains its encoder against a 2D privacy classifier f_B that looks at one
random frame of each encoded clip: f_B learns the privacy labels with cross
entropy, and the encoder (with the action model) minimises
``L_T - w * H(f_B)``, ``H`` the entropy of f_B's predicted distribution (the
released code: actor identity on SBU, softmax entropy, ``w = 2``).

This is [41]'s budget loss with another frame sampler and, for single-label
privacy classes, a softmax in place of independent sigmoids, so the head is
:class:`SupervisedPrivacyHead` with two options added:

- ``label_type``: ``'multi_label'`` (BCE on multi-hot attributes, the mean
  binary entropy in step 1; what [41] uses and what our privacy datasets
  carry) or ``'single_label'`` (cross entropy on one class per sample, the
  categorical entropy ``H(p) = -sum_k p_k log p_k``, ``p = softmax(z)``, in
  step 1; BDQ's actor-identity objective);
- ``frame_sampling``: ``'random'`` (``num_frames`` frames drawn uniformly per
  clip at every call, as BDQ draws one) or ``'even'`` (evenly spaced, as
  :class:`SupervisedPrivacyHead`).

The entropy reaches f_A through the head's :class:`GradientReversal` layer
(weight ``ssl_weight`` of :class:`MinimaxOptimWrapper`), as for [41].
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from spact_mm.registry import MODELS

from .supervised_privacy_head import SupervisedPrivacyHead, binary_entropy_with_logits

LABEL_TYPES = ('multi_label', 'single_label')
FRAME_SAMPLINGS = ('random', 'even')


def categorical_entropy_with_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of ``softmax(logits)`` over the last dimension, per row.

    ``H = -sum_k p_k log p_k = logsumexp(z) - sum_k p_k z_k``, computed stably.
    """
    return torch.logsumexp(logits, -1) - (F.softmax(logits, -1) * logits).sum(-1)


@MODELS.register_module()
class BDQPrivacyHead(SupervisedPrivacyHead):
    """Privacy classifier f_B of BDQ for :class:`SPActRecognizer` (see module docstring).

    :meth:`loss` returns ``loss_privacy``:

    - step 2 (phase ``'adversary'`` or ``None``): f_B's BCE (``multi_label``) or cross
      entropy (``single_label``) on ``data_sample.privacy_label``, summed over
      the budget models;
    - step 1 (phase ``'anonymizer'``): the mean entropy of the most confident
      model's predictions, read through the gradient reversal layer, so f_A
      maximises it.

    Args:
        num_attributes: Privacy attributes (``multi_label``) or classes
            (``single_label``).
        label_type: ``'multi_label'`` or ``'single_label'``. Single-label
            targets are class indices (a 0-dim or 1-element ``privacy_label``)
            or one-hot vectors.
        frame_sampling: ``'random'`` or ``'even'``.
        num_frames: Frames per clip fed to f_B (1 as in BDQ).
        **kwargs: The other arguments of :class:`SupervisedPrivacyHead`
            (backbone, in_channels, num_models, restart_interval,
            ssl_weight, init_cfg).
    """

    def __init__(self,
                 num_attributes: int,
                 label_type: str = 'multi_label',
                 frame_sampling: str = 'random',
                 num_frames: int = 1,
                 **kwargs) -> None:
        if label_type not in LABEL_TYPES:
            raise ValueError(f'label_type must be one of {LABEL_TYPES}, got {label_type!r}')
        if frame_sampling not in FRAME_SAMPLINGS:
            raise ValueError(f'frame_sampling must be one of {FRAME_SAMPLINGS}, '
                             f'got {frame_sampling!r}')
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        super().__init__(num_attributes=num_attributes, num_frames=num_frames, **kwargs)
        self.label_type = label_type
        self.frame_sampling = frame_sampling

    # ------------------------------------------------------------------ pieces
    def frames(self, inputs: torch.Tensor) -> torch.Tensor:
        """``num_frames`` frames per clip, (N*M*F, C, H, W), ordered clip by clip.

        ``'random'``: indices drawn uniformly (with replacement) for every clip
        from torch's global generator; ``'even'``: evenly spaced.
        """
        if self.frame_sampling == 'even':
            return super().frames(inputs)
        if inputs.dim() == 6:
            inputs = inputs.flatten(0, 1)
        if inputs.dim() == 4:  # already frames / images
            return inputs
        n, t = inputs.shape[0], inputs.shape[2]
        idx = torch.randint(0, t, (n, self.num_frames), device=inputs.device)
        clips = inputs.movedim(2, 1)  # (N, T, C, H, W)
        picked = clips[torch.arange(n, device=inputs.device)[:, None], idx]
        return picked.flatten(0, 1)

    def entropy(self, logits: torch.Tensor) -> torch.Tensor:
        """Mean entropy of one model's predictions (binary or categorical)."""
        if self.label_type == 'multi_label':
            return binary_entropy_with_logits(logits).mean()
        return categorical_entropy_with_logits(logits).mean()

    def class_targets(self, targets: torch.Tensor) -> torch.Tensor:
        """Single-label targets as class indices (N,) from indices or one-hot rows."""
        if targets.dim() == 2 and targets.shape[1] == 1:
            targets = targets[:, 0]
        if targets.dim() == 1:
            idx = targets.long()
            if not torch.equal(idx.to(targets.dtype), targets) or \
                    (idx < 0).any() or (idx >= self.num_attributes).any():
                raise ValueError(f'single_label privacy_label must be class indices in '
                                 f'[0, {self.num_attributes}), got {targets.tolist()}')
            return idx
        if targets.dim() == 2 and targets.shape[1] == self.num_attributes and \
                bool(((targets == 0) | (targets == 1)).all()) and bool((targets.sum(1) == 1).all()):
            return targets.argmax(1)
        raise ValueError('single_label privacy_label must be a class index or a one-hot vector '
                         f'of length {self.num_attributes} per sample; got shape '
                         f'{tuple(targets.shape)} (multi-hot labels need '
                         "label_type='multi_label')")

    # ------------------------------------------------------------------- loss
    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Step-1 entropy or step-2 BCE / cross entropy (see class docstring).

        Args:
            inputs: Anonymized clips (N, M, C, T, H, W) or (N, C, T, H, W).
            data_samples: Data samples with ``privacy_label`` (or
                ``aux_privacy_label`` with ``aux_inputs``).
            aux_inputs: Optional anonymized privacy images (N', V, C, H, W), as
                for :class:`SupervisedPrivacyHead` (cross-dataset training).

        Returns:
            ``dict(loss_privacy=..., privacy_entropy=...)`` (the second only logged).
        """
        step2 = not self.maximised
        if step2 and self.training and torch.is_grad_enabled():
            # restart before the forward pass, as SupervisedPrivacyHead does
            if self.restart_interval and self.num_updates and \
                    self.num_updates % self.restart_interval == 0:
                self.restart()
            self.num_updates += 1
        if aux_inputs is not None:
            frames, repeats = self.aux_images(aux_inputs)
        else:
            frames = self.frames(inputs)
        logits = self.logits(self.grad_reverse(frames))
        entropy = torch.stack([self.entropy(z) for z in logits])
        if not step2:
            return {self.loss_key: entropy.min(), 'privacy_entropy': entropy.min().detach()}
        if aux_inputs is not None:
            targets = self._targets(data_samples, 'aux_privacy_label', frames.shape[0] // repeats)
        else:  # frames are ordered sample by sample
            targets = self._targets(data_samples)
            repeats = frames.shape[0] // len(data_samples)
        targets = targets.to(frames.device)
        if self.label_type == 'multi_label':
            targets = targets.repeat_interleave(repeats, dim=0)
            fit = sum(F.binary_cross_entropy_with_logits(z, targets) for z in logits)
        else:
            classes = self.class_targets(targets).repeat_interleave(repeats, dim=0)
            fit = sum(F.cross_entropy(z, classes) for z in logits)
        return {self.loss_key: fit, 'privacy_entropy': entropy.min().detach()}
