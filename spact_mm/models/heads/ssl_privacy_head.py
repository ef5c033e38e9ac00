"""The self-supervised privacy removal branch f_B (Sec. 3.2.2, Fig. 3)."""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.model import BaseModule

from spact_mm.models.layers import GradientReversal
from spact_mm.registry import MODELS

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


@MODELS.register_module()
class SSLPrivacyHead(BaseModule):
    """f_B (2D backbone) + g (projection) + NT-Xent over frame pairs (Eq. 5).

    Given an anonymized batch, :meth:`loss` draws two frames per clip with the
    temporal sampler S_F (or, for the cross-dataset protocol, takes two views
    of an auxiliary, anonymized image batch), encodes both with f_B and g and
    returns ``loss_ssl`` = L_B. The frames enter through a
    :class:`GradientReversal` layer so that, in minimax step 1, f_A receives
    ``-w * grad(L_B)`` (Eq. 9) while f_B itself is trained on ``L_B`` (Eq. 8).

    Args:
        backbone: 2D backbone config, any mmpretrain backbone
            (``mmpretrain.ResNet`` depth 50 by default, as in the paper).
        neck: Projection head g (``mmpretrain.NonLinearNeck`` by default,
            SimCLR's 2-layer MLP).
        loss: Contrastive loss config (``NTXentLoss`` by default).
        frame_sampler: ``dict(mode='random'|'near'|'far', distance=k)``; see
            :func:`sample_frame_pairs`.
        grad_reverse_weight: Initial omega of the gradient reversal layer; a
            :class:`MinimaxOptimWrapper` overrides it with its ``ssl_weight``.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: dict = dict(type='mmpretrain.ResNet', depth=50),
                 neck: dict = dict(
                     type='mmpretrain.NonLinearNeck', in_channels=2048, hid_channels=2048,
                     out_channels=128, num_layers=2, with_avg_pool=True),
                 loss: dict = dict(type='NTXentLoss', temperature=0.1),
                 frame_sampler: dict = dict(mode='random'),
                 grad_reverse_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.loss_module = MODELS.build(loss)
        self.frame_sampler = dict(mode='random', distance=None)
        self.frame_sampler.update(frame_sampler)
        self.grad_reverse = GradientReversal(grad_reverse_weight)

    def project(self, frames: torch.Tensor) -> torch.Tensor:
        """g(f_B(frames)) for frames of shape (B, C, H, W) -> (B, D)."""
        feats = self.backbone(frames)
        z = self.neck(feats if isinstance(feats, (tuple, list)) else (feats, ))
        return z[-1] if isinstance(z, (tuple, list)) else z

    def frame_pairs(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Apply S_F to a batch of clips.

        Args:
            inputs: Anonymized, normalised NCTHW clips: (N, M, C, T, H, W) as
                produced by mmaction2's preprocessor, or (N, C, T, H, W).

        Returns:
            Two frame batches of shape (N*M, C, H, W).
        """
        if inputs.dim() == 6:
            inputs = inputs.flatten(0, 1)
        if inputs.dim() != 5:
            raise ValueError(f'expected a clip batch with 5 or 6 dims, got {tuple(inputs.shape)}')
        b, _, t = inputs.shape[:3]
        t1, t2 = sample_frame_pairs(b, t, self.frame_sampler['mode'],
                                    self.frame_sampler['distance'], device=inputs.device)
        rows = torch.arange(b, device=inputs.device)
        return inputs[rows, :, t1], inputs[rows, :, t2]

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """L_B on frame pairs of ``inputs`` or on views of ``aux_inputs``.

        Args:
            inputs: Anonymized clip batch (see :meth:`frame_pairs`).
            data_samples: Unused; kept for the mmaction2 head interface.
            aux_inputs: Optional anonymized auxiliary images with two views
                each, shape (N', 2, C, H, W). When given, L_B is computed on
                them instead of on frame pairs (cross-dataset protocol).

        Returns:
            ``dict(loss_ssl=L_B)``.
        """
        if aux_inputs is not None:
            if aux_inputs.dim() != 5 or aux_inputs.shape[1] != 2:
                raise ValueError('aux_inputs must have shape (N, 2, C, H, W), got '
                                 f'{tuple(aux_inputs.shape)}')
            v1, v2 = aux_inputs[:, 0], aux_inputs[:, 1]
        else:
            v1, v2 = self.frame_pairs(inputs)
        n = v1.shape[0]
        z = self.project(self.grad_reverse(torch.cat([v1, v2], dim=0)))
        return dict(loss_ssl=self.loss_module(z[:n], z[n:]))
