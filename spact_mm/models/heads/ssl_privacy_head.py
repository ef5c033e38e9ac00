"""The self-supervised privacy removal branch f_B (Sec. 3.2.2, Fig. 3)."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS

from .base_privacy_head import BasePrivacyHead

_SAMPLER_MODES = ('random', 'near', 'far')


def sample_frame_pairs(num_clips: int, num_frames: int, mode: str = 'random',
                       distance: Optional[int] = None,
                       device: Optional[torch.device] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """The temporal frame sampler S_F: two distinct frame indices per clip.

    Ordered pairs ``(t1, t2)`` with ``t1 != t2`` are drawn uniformly from those
    allowed by ``mode`` (Table 4):

    - ``'random'``: any two distinct frames ("no constraint");
    - ``'near'``: ``0 < |t1 - t2| < distance``;
    - ``'far'``: ``|t1 - t2| > distance``.

    Distances count frames of the clip as sampled by the pipeline (multiply by
    the pipeline's ``frame_interval`` for distances in the source video).

    Returns:
        Two int64 tensors of shape (num_clips,).
    """
    if mode not in _SAMPLER_MODES:
        raise ValueError(f'frame sampler mode must be one of {_SAMPLER_MODES}, got {mode!r}')
    if mode != 'random' and (distance is None or distance < 1):
        raise ValueError(f"frame sampler mode {mode!r} needs a distance >= 1, got {distance}")
    t = torch.arange(num_frames, device=device)
    gap = (t[:, None] - t[None, :]).abs()
    allowed = gap > 0
    if mode == 'near':
        allowed &= gap < distance
    elif mode == 'far':
        allowed &= gap > distance
    pairs = allowed.nonzero()
    if len(pairs) == 0:
        raise ValueError(f'no frame pair of a {num_frames}-frame clip satisfies sampler '
                         f'mode {mode!r} with distance {distance}')
    pick = pairs[torch.randint(len(pairs), (num_clips, ), device=device)]
    return pick[:, 0], pick[:, 1]


_VIEWS = ('frames', 'clips')
_ANONYMIZER_OBJECTIVES = ('ntxent', 'entropy')


def encode(backbone: nn.Module, neck: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``g(f_B(x))``: backbone, then neck, returning the neck's last output.

    A 3D backbone's 5-D feature map (B, C, T, H, W) (e.g. mmaction2's
    ``ResNet3d``) is first averaged over time and space to (B, C, 1, 1), so
    the same 2D necks (``mmpretrain.NonLinearNeck``, with or without its own
    pooling) serve 2D and 3D f_B.
    """
    feats = backbone(x)
    feats = tuple(feats) if isinstance(feats, (tuple, list)) else (feats, )
    if feats[-1].dim() == 5:
        feats = (F.adaptive_avg_pool3d(feats[-1], 1).squeeze(2), )
    z = neck(feats)
    return z[-1] if isinstance(z, (tuple, list)) else z


@MODELS.register_module()
class SSLPrivacyHead(BasePrivacyHead):
    """f_B (2D backbone) + g (projection) + NT-Xent over frame pairs (Eq. 5).

    Given an anonymized batch, :meth:`loss` draws two frames per clip with the
    temporal sampler S_F (or, for the cross-dataset protocol, takes two views
    of an auxiliary, anonymized image batch), encodes both with f_B and g and
    returns ``loss_ssl`` = L_B. The frames enter through the
    :class:`GradientReversal` layer of :class:`BasePrivacyHead`, so that, in
    minimax step 1, f_A receives ``-w * grad(L_B)`` (Eq. 9) while f_B itself
    is trained on ``L_B`` (Eq. 8).

    With ``views='clips'`` the positives are two sub-clips of ``clip_len``
    frames of the same clip, starting at two distinct offsets drawn by S_F,
    for a 3D f_B: the spatio-temporal privacy branch of Table 3 (last row).

    Args:
        backbone: f_B config, any mmpretrain backbone (``mmpretrain.ResNet``
            depth 50 by default, as in the paper), or a 3D backbone such as
            mmaction2's ``ResNet3d`` with ``views='clips'``.
        neck: Projection head g (``mmpretrain.NonLinearNeck`` by default,
            SimCLR's 2-layer MLP).
        loss: Contrastive loss config (``NTXentLoss`` by default); ``None``
            for subclasses that build their own objective.
        frame_sampler: ``dict(mode='random'|'near'|'far', distance=k)``; see
            :func:`sample_frame_pairs`. With ``views='clips'`` it draws the
            two sub-clips' start frames.
        views: ``'frames'`` (two frames per clip, Eq. 5) or ``'clips'`` (two
            sub-clips per clip, Table 3 "Spatio-Temporal").
        clip_len: Frames per sub-clip; required with ``views='clips'``.
        ssl_weight: Initial omega of Eq. 9 (the reversal layer's weight); a
            :class:`MinimaxOptimWrapper` sets its own ``ssl_weight`` every
            iteration.
        anonymizer_objective: What f_A maximises in minimax step 1 (phase
            ``'anonymizer'``): ``'ntxent'`` (the paper, Eq. 9: L_B itself) or
            ``'entropy'`` (ours, the SSL analogue of [41]'s negative-entropy
            budget loss: the entropy of f_B's distribution over each anchor's
            candidates, :meth:`NTXentLoss.entropy`, which is largest at chance
            and, unlike L_B, does not reward making two frames of a clip
            anti-similar). Step 2 always trains f_B on L_B. Needs an
            ``NTXentLoss``.
        init_cfg: mmengine init config.
        grad_reverse_weight: Deprecated alias of ``ssl_weight``.
    """

    loss_key = 'loss_ssl'

    def __init__(self,
                 backbone: dict = dict(type='mmpretrain.ResNet', depth=50),
                 neck: dict = dict(
                     type='mmpretrain.NonLinearNeck', in_channels=2048, hid_channels=2048,
                     out_channels=128, num_layers=2, with_avg_pool=True),
                 loss: Optional[dict] = dict(type='NTXentLoss', temperature=0.1),
                 frame_sampler: dict = dict(mode='random'),
                 views: str = 'frames',
                 clip_len: Optional[int] = None,
                 ssl_weight: float = 1.0,
                 anonymizer_objective: str = 'ntxent',
                 init_cfg: Optional[dict] = None,
                 grad_reverse_weight: Optional[float] = None) -> None:
        super().__init__(ssl_weight=ssl_weight, init_cfg=init_cfg,
                         grad_reverse_weight=grad_reverse_weight)
        if anonymizer_objective not in _ANONYMIZER_OBJECTIVES:
            raise ValueError(f'anonymizer_objective must be one of {_ANONYMIZER_OBJECTIVES}, '
                             f'got {anonymizer_objective!r}')
        self.anonymizer_objective = anonymizer_objective
        if views not in _VIEWS:
            raise ValueError(f'views must be one of {_VIEWS}, got {views!r}')
        if views == 'clips' and (clip_len is None or clip_len < 1):
            raise ValueError(f"views='clips' needs a clip_len >= 1, got {clip_len}")
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.loss_module = MODELS.build(loss) if loss is not None else None
        if anonymizer_objective == 'entropy' and not hasattr(self.loss_module, 'entropy'):
            raise ValueError("anonymizer_objective='entropy' needs a loss with an entropy() "
                             f'method (NTXentLoss), got {type(self.loss_module).__name__}')
        self.frame_sampler = dict(mode='random', distance=None)
        self.frame_sampler.update(frame_sampler)
        self.views = views
        self.clip_len = clip_len

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """g(f_B(x)) for frames (B, C, H, W) or sub-clips (B, C, T, H, W) -> (B, D)."""
        return encode(self.backbone, self.neck, x)

    @staticmethod
    def _clip_batch(inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() == 6:
            inputs = inputs.flatten(0, 1)
        if inputs.dim() != 5:
            raise ValueError(f'expected a clip batch with 5 or 6 dims, got {tuple(inputs.shape)}')
        return inputs

    def frame_pairs(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Apply S_F to a batch of clips.

        Args:
            inputs: Anonymized, normalised NCTHW clips: (N, M, C, T, H, W) as
                produced by mmaction2's preprocessor, or (N, C, T, H, W).

        Returns:
            Two frame batches of shape (N*M, C, H, W).
        """
        inputs = self._clip_batch(inputs)
        b, _, t = inputs.shape[:3]
        t1, t2 = sample_frame_pairs(b, t, self.frame_sampler['mode'],
                                    self.frame_sampler['distance'], device=inputs.device)
        rows = torch.arange(b, device=inputs.device)
        return inputs[rows, :, t1], inputs[rows, :, t2]

    def clip_pairs(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Two sub-clips of ``clip_len`` frames per clip (Table 3, spatio-temporal f_B).

        S_F (:func:`sample_frame_pairs`, with this head's ``frame_sampler``)
        draws two distinct start frames among the ``T - clip_len + 1``
        possible ones, so the two windows always differ.

        Args:
            inputs: Anonymized clips (N, M, C, T, H, W) or (N, C, T, H, W).

        Returns:
            Two sub-clip batches of shape (N*M, C, clip_len, H, W).
        """
        inputs = self._clip_batch(inputs)
        b, _, t = inputs.shape[:3]
        if self.clip_len is None or t - self.clip_len + 1 < 2:
            raise ValueError(f'two distinct sub-clips of {self.clip_len} frames need clips of '
                             f'more than {self.clip_len} frames, got {t}')
        s1, s2 = sample_frame_pairs(b, t - self.clip_len + 1, self.frame_sampler['mode'],
                                    self.frame_sampler['distance'], device=inputs.device)
        rows = torch.arange(b, device=inputs.device)[:, None]
        offsets = torch.arange(self.clip_len, device=inputs.device)
        # Advanced indices on dims 0 and 2 give (B, clip_len, C, H, W).
        return (inputs[rows, :, s1[:, None] + offsets].movedim(1, 2),
                inputs[rows, :, s2[:, None] + offsets].movedim(1, 2))

    def pair_views(self, inputs: Optional[torch.Tensor],
                   aux_inputs: Optional[torch.Tensor] = None
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The two positive views: of ``aux_inputs`` if given, else of ``inputs``.

        Frames (:meth:`frame_pairs`) or sub-clips (:meth:`clip_pairs`) per
        ``views``; auxiliary images (N', 2, C, H, W) need ``views='frames'``.
        """
        if aux_inputs is None:
            return self.clip_pairs(inputs) if self.views == 'clips' else self.frame_pairs(inputs)
        if self.views == 'clips':
            raise ValueError("aux_inputs are images: they need views='frames'")
        if aux_inputs.dim() != 5 or aux_inputs.shape[1] != 2:
            raise ValueError('aux_inputs must have shape (N, 2, C, H, W), got '
                             f'{tuple(aux_inputs.shape)}')
        return aux_inputs[:, 0], aux_inputs[:, 1]

    def ssl_loss(self, v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        """L_B of Eq. 5 (NT-Xent) on two batches of positive views.

        In step 1 with ``anonymizer_objective='entropy'``, the contrastive
        entropy (:meth:`NTXentLoss.entropy`) instead: through the reversal
        layer f_A then maximises it.
        """
        n = v1.shape[0]
        z = self.project(self.grad_reverse(torch.cat([v1, v2], dim=0)))
        if self.anonymizer_objective == 'entropy' and self.maximised:
            return self.loss_module.entropy(z[:n], z[n:])
        return self.loss_module(z[:n], z[n:])

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """L_B on frame pairs (or sub-clip pairs) of ``inputs`` or on views of ``aux_inputs``.

        Args:
            inputs: Anonymized clip batch (see :meth:`frame_pairs`).
            data_samples: Unused; kept for the mmaction2 head interface.
            aux_inputs: Optional anonymized auxiliary images with two views
                each, shape (N', 2, C, H, W). When given, L_B is computed on
                them instead of on frame pairs (cross-dataset protocol).

        Returns:
            ``dict(loss_ssl=L_B)``.
        """
        return {self.loss_key: self.ssl_loss(*self.pair_views(inputs, aux_inputs))}
