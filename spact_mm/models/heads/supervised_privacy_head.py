"""The supervised privacy branch of Wu et al. [41] (baseline of Sec. 5.2).

f_B is a 2D multi-label privacy classifier trained with BCE on privacy labels
(step 2), and f_A is trained to maximise the entropy of f_B's predictions
(step 1, their negative-entropy budget loss), in the same minimax loop as
SPAct (:class:`MinimaxOptimWrapper`). Budget-model restarting and an ensemble
of budget models, the two tricks of [41] against f_A over-fitting one f_B, are
options.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS

from .base_privacy_head import BasePrivacyHead


def binary_entropy_with_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of independent Bernoulli predictions, element-wise.

    H(p) = -p log p - (1 - p) log(1 - p) with p = sigmoid(logits), computed
    stably as ``softplus(z) - z * sigmoid(z)``.
    """
    return F.softplus(logits) - logits * torch.sigmoid(logits)


@MODELS.register_module()
class SupervisedPrivacyHead(BasePrivacyHead):
    """Supervised budget model f_B of [41] for :class:`SPActRecognizer`.

    :meth:`loss` takes ``num_frames`` frames per (anonymized) clip, classifies
    them with each budget model (backbone + global pooling + linear layer)
    and returns ``loss_privacy``:

    - in step 2 (phase ``'adversary'``, and phase ``None``, when no minimax
      wrapper drives the phase): the BCE of every budget model on the clip's multi-hot
      ``data_sample.privacy_label``, summed over models: f_B learns privacy;
    - in step 1 (phase ``'anonymizer'``): the mean binary entropy H of the
      predictions of the most confident budget model (lowest entropy; with one
      model, of that model). Frames enter through the
      :class:`GradientReversal` layer of :class:`BasePrivacyHead` (weight w),
      so f_A's gradient is ``-w * grad(H)``: f_A
      minimises the negative entropy ``-H`` (the budget loss of [41]) plus L_T.

    :class:`MinimaxOptimWrapper` hands the phase and w to the head before each
    forward pass (through :meth:`SPActRecognizer.set_minimax_phase`).

    Cross-dataset training (Sec. 4.2, the UCF101-VISPR protocol of [41]): when
    ``aux_inputs`` is given (anonymized privacy images from
    :class:`ActionPrivacyPairDataset`), both steps use those images *instead of*
    the clips' frames, with labels ``data_sample.aux_privacy_label``: step 2
    trains f_B with BCE on f_A(privacy images), step 1 trains f_A (through the
    reversal layer) to maximise f_B's entropy on f_A(privacy images), while
    L_T keeps the action on the action clips. The action clips carry no
    privacy label and never reach f_B in this mode.

    Args:
        num_attributes: Number of privacy attributes.
        backbone: 2D backbone config (any mmpretrain backbone).
        in_channels: Channels of the backbone's last output.
        num_models: Budget models in the ensemble (1: no ensemble).
        restart_interval: Re-initialise every budget model after this many
            step-2 updates (``None``: never; "model restarting" of [41]).
            The optimiser's moment estimates of the restarted weights are kept.
        num_frames: Frames per clip fed to f_B (evenly spread over the clip).
        ssl_weight: Initial omega of Eq. 9, the reversal layer's weight (the
            minimax wrapper sets its own ``ssl_weight`` every iteration).
        init_cfg: mmengine init config.
        grad_reverse_weight: Deprecated alias of ``ssl_weight``.
    """

    loss_key = 'loss_privacy'

    def __init__(self,
                 num_attributes: int,
                 backbone: dict = dict(type='mmpretrain.ResNet', depth=50),
                 in_channels: int = 2048,
                 num_models: int = 1,
                 restart_interval: Optional[int] = None,
                 num_frames: int = 1,
                 ssl_weight: float = 1.0,
                 init_cfg: Optional[dict] = None,
                 grad_reverse_weight: Optional[float] = None) -> None:
        super().__init__(ssl_weight=ssl_weight, init_cfg=init_cfg,
                         grad_reverse_weight=grad_reverse_weight)
        if num_models < 1:
            raise ValueError(f'num_models must be >= 1, got {num_models}')
        if restart_interval is not None and restart_interval < 1:
            raise ValueError(f'restart_interval must be >= 1 or None, got {restart_interval}')
        self.num_attributes = num_attributes
        self.backbones = nn.ModuleList([MODELS.build(backbone) for _ in range(num_models)])
        self.fcs = nn.ModuleList([nn.Linear(in_channels, num_attributes)
                                  for _ in range(num_models)])
        self.restart_interval = restart_interval
        self.num_frames = num_frames
        self.num_updates = 0  # step-2 training calls, for restarting (not checkpointed)

    # ------------------------------------------------------------------ pieces
    def frames(self, inputs: torch.Tensor) -> torch.Tensor:
        """``num_frames`` evenly spaced frames per clip: (N*M*F, C, H, W)."""
        if inputs.dim() == 6:
            inputs = inputs.flatten(0, 1)
        if inputs.dim() == 4:  # already frames / images
            return inputs
        t = inputs.shape[2]
        idx = torch.linspace(0, t - 1, self.num_frames).round().long().to(inputs.device)
        return inputs[:, :, idx].movedim(2, 1).flatten(0, 1)

    def logits(self, frames: torch.Tensor) -> List[torch.Tensor]:
        """Privacy logits (B, num_attributes) of every budget model."""
        out = []
        for backbone, fc in zip(self.backbones, self.fcs):
            feats = backbone(frames)
            feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
            out.append(fc(F.adaptive_avg_pool2d(feat, 1).flatten(1)))
        return out

    def restart(self) -> None:
        """Re-initialise every budget model ("model restarting" of [41])."""
        for m in list(self.backbones.modules()) + list(self.fcs.modules()):
            if hasattr(m, 'reset_parameters') and m is not self:
                m.reset_parameters()

    @staticmethod
    def _targets(data_samples: Optional[List], field: str = 'privacy_label',
                 num_images: Optional[int] = None) -> torch.Tensor:
        """Stacked multi-hot ``field`` of the data samples: ``privacy_label``
        (same-dataset clips) or ``aux_privacy_label`` (the paired privacy
        images, whose count ``num_images`` must match)."""
        if not data_samples or field not in data_samples[0]:
            hint = ('with aux_inputs needs `aux_privacy_label` in every data sample; use '
                    'ActionPrivacyPairDataset' if field == 'aux_privacy_label' else
                    'needs `privacy_label` in every data sample; use PrivacyVideoDataset with '
                    'PackActionPrivacyInputs')
            raise KeyError(f'SupervisedPrivacyHead {hint}')
        if num_images is not None and len(data_samples) != num_images:
            raise ValueError(f'{num_images} privacy images but {len(data_samples)} data samples '
                             f'with {field}')
        return torch.stack([torch.as_tensor(s.get(field)).float() for s in data_samples])

    def aux_images(self, aux_inputs: torch.Tensor) -> Tuple[torch.Tensor, int]:
        """Flatten privacy image views to (N'*V, C, H, W); also return V.

        Accepts (N', V, C, H, W), the layout :class:`AnonymizerDataPreprocessor`
        stacks from :class:`ActionPrivacyPairDataset` (V = 1, or 2 views of
        each image, both labelled with the image's label), or (N', C, H, W).
        """
        if aux_inputs.dim() == 4:
            return aux_inputs, 1
        if aux_inputs.dim() == 5:
            return aux_inputs.flatten(0, 1), aux_inputs.shape[1]
        raise ValueError("aux_inputs must have shape (N', V, C, H, W) or (N', C, H, W), got "
                         f'{tuple(aux_inputs.shape)}')

    # ------------------------------------------------------------------- loss
    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Step-1 entropy or step-2 BCE of the budget models (see class docstring).

        Args:
            inputs: Anonymized clips (N, M, C, T, H, W) or (N, C, T, H, W).
            data_samples: Data samples with ``privacy_label`` (same-dataset) or
                ``aux_privacy_label`` (with ``aux_inputs``).
            aux_inputs: Optional anonymized privacy images (N', V, C, H, W) or
                (N', C, H, W), N' = len(data_samples), in the samples' order
                (cross-dataset protocol; see the class docstring).

        Returns:
            ``dict(loss_privacy=..., privacy_entropy=...)``; the second is only
            logged (its name has no ``loss``).
        """
        step2 = not self.maximised
        if step2 and self.training and torch.is_grad_enabled():
            # restart before the forward pass: weights used in a graph must not change
            if self.restart_interval and self.num_updates and \
                    self.num_updates % self.restart_interval == 0:
                self.restart()
            self.num_updates += 1
        if aux_inputs is not None:  # cross-dataset: f_B sees only the privacy images
            frames, repeats = self.aux_images(aux_inputs)
        else:
            frames = self.frames(inputs)
        logits = self.logits(self.grad_reverse(frames))
        entropy = torch.stack([binary_entropy_with_logits(z).mean() for z in logits])
        if not step2:
            return {self.loss_key: entropy.min(), 'privacy_entropy': entropy.min().detach()}
        if aux_inputs is not None:
            targets = self._targets(data_samples, 'aux_privacy_label', frames.shape[0] // repeats)
        else:  # frames are ordered sample by sample (clips, then frames of a clip)
            targets = self._targets(data_samples)
            repeats = frames.shape[0] // len(data_samples)
        targets = targets.to(frames.device).repeat_interleave(repeats, dim=0)
        bce = sum(F.binary_cross_entropy_with_logits(z, targets) for z in logits)
        return {self.loss_key: bce, 'privacy_entropy': entropy.min().detach()}
