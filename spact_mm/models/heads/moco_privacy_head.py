"""MoCo as the SSL loss of the privacy branch f_B (Table 5, "MoCo" row).

He et al., "Momentum Contrast for Unsupervised Visual Representation
Learning" (CVPR 2020), the paper's ref. [15], in place of NT-Xent in Eq. 5.
Built from mmpretrain's MoCo parts: its ``ContrastiveHead`` (positive and
negative logits -> cross entropy), mmengine's ``ExponentialMovingAverage``
as the momentum key encoder and mmpretrain's DDP batch shuffle, as in
``mmpretrain/models/selfsup/moco.py``. What is SPAct-specific is *when* the
key encoder and the queue move (only when f_B is trained, see
:class:`MoCoPrivacyHead`).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather
from mmengine.model import ExponentialMovingAverage
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp

from spact_mm.registry import MODELS

from .ssl_privacy_head import SSLPrivacyHead, encode


@MODELS.register_module()
class MoCoPrivacyHead(SSLPrivacyHead):
    """f_B + g trained with MoCo's InfoNCE against a queue of negatives.

    For the two views of each clip drawn by S_F (:meth:`pair_views`), the
    query is ``q = g(f_B(grl(v1)))`` and the key ``k = g_k(f_B,k(v2))`` comes
    from the momentum (key) encoder without gradient. With the queue's ``K``
    keys ``n_j`` of earlier batches as negatives and unit-normalised vectors,
    L_B is MoCo's InfoNCE::

        L_B = mean_i -log exp(q_i.k_i / tau) / (exp(q_i.k_i / tau) + sum_j exp(q_i.n_j / tau))

    The query path goes through the :class:`GradientReversal` layer, so step 1
    of the minimax (Eq. 9) gives f_A ``-w * grad(L_B)`` and step 2 (Eq. 8)
    trains f_B and g on L_B.

    The key encoder follows ``key <- (1 - momentum) * key + momentum * query``
    (mmengine's EMA convention: MoCo's m = 0.999 is ``momentum=0.001``) and
    this batch's keys replace the oldest ones in the queue, only when f_B is
    being trained (:meth:`BasePrivacyHead.trains_fb`): in minimax step 2
    (phase ``'adversary'``, handed over by :meth:`set_minimax_phase`) or,
    outside a minimax loop (phase ``None``, e.g. stage-2 pre-training), in
    train mode. Step 1 and eval mode leave both untouched. The key encoder is
    frozen by design (mmengine's EMA turns its ``requires_grad`` off);
    :class:`MinimaxOptimWrapper` never turns it back on.

    A stage-3 run loads a stage-2 checkpoint that has f_B but no key encoder:
    the EMA's persistent ``steps`` buffer is then 0, and the first training
    call copies the query encoder into the key encoder (whatever the phase).
    A checkpoint that holds the key encoder restores ``steps`` > 0 and no copy
    happens. Before that first copy, eval-mode calls compute keys with the
    query encoder, which the key encoder would copy.

    Args:
        backbone: f_B config (see :class:`SSLPrivacyHead`).
        neck: Projection head g; its output size must be ``feat_dim``.
        head: mmpretrain ``ContrastiveHead`` config: temperature tau and the
            cross entropy over ``[l_pos, l_neg]``.
        queue_len: K, negatives kept in the queue.
        feat_dim: Size of the projections (the queue's rows).
        momentum: EMA momentum in mmengine's convention (``1 - m`` of MoCo).
        frame_sampler: S_F config (see :class:`SSLPrivacyHead`).
        views: ``'frames'`` or ``'clips'`` (see :class:`SSLPrivacyHead`).
        clip_len: Sub-clip length for ``views='clips'``.
        ssl_weight: Initial omega of Eq. 9 (see :class:`BasePrivacyHead`).
        init_cfg: mmengine init config.
        grad_reverse_weight: Deprecated alias of ``ssl_weight``.
    """

    def __init__(self,
                 backbone: dict = dict(type='mmpretrain.ResNet', depth=50),
                 neck: dict = dict(
                     type='mmpretrain.NonLinearNeck', in_channels=2048, hid_channels=2048,
                     out_channels=128, num_layers=2, with_avg_pool=True),
                 head: dict = dict(type='mmpretrain.ContrastiveHead',
                                   loss=dict(type='mmpretrain.CrossEntropyLoss'),
                                   temperature=0.2),
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 frame_sampler: dict = dict(mode='random'),
                 views: str = 'frames',
                 clip_len: Optional[int] = None,
                 ssl_weight: float = 1.0,
                 init_cfg: Optional[dict] = None,
                 grad_reverse_weight: Optional[float] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, loss=None, frame_sampler=frame_sampler,
                         views=views, clip_len=clip_len, ssl_weight=ssl_weight,
                         init_cfg=init_cfg, grad_reverse_weight=grad_reverse_weight)
        if queue_len < 1:
            raise ValueError(f'queue_len must be >= 1, got {queue_len}')
        self.head = MODELS.build(head)
        self.encoder_k = ExponentialMovingAverage(nn.Sequential(self.backbone, self.neck),
                                                  momentum)
        self.queue_len = queue_len
        self.register_buffer('queue', F.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))

    @property
    def key_synced(self) -> bool:
        """Whether the key encoder holds weights (copied or loaded)."""
        return bool(self.encoder_k.steps > 0)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys: torch.Tensor) -> None:
        """Replace the oldest keys by this batch's (of every rank), as mmpretrain's MoCo.

        Unlike mmpretrain's, the batch need not divide ``queue_len``: the
        write wraps around (and keeps the newest ``queue_len`` keys if the
        batch is larger).
        """
        keys = torch.cat(all_gather(keys), dim=0)[-self.queue_len:]
        ptr = int(self.queue_ptr)
        idx = (ptr + torch.arange(keys.shape[0], device=keys.device)) % self.queue_len
        self.queue[:, idx] = keys.t().to(self.queue.dtype)
        self.queue_ptr[0] = (ptr + keys.shape[0]) % self.queue_len

    @torch.no_grad()
    def keys(self, v2: torch.Tensor) -> torch.Tensor:
        """Unit keys of ``v2`` from the key encoder (moved first if f_B trains)."""
        query_encoder = nn.Sequential(self.backbone, self.neck)
        if self.training and (self.trains_fb() or not self.key_synced):
            # MoCo's update (the first call copies: the EMA's steps == 0).
            self.encoder_k.update_parameters(query_encoder)
        backbone, neck = self.encoder_k.module if self.key_synced else query_encoder
        v2, idx_unshuffle = batch_shuffle_ddp(v2)  # MoCo's shuffled BN
        k = F.normalize(encode(backbone, neck, v2), dim=1)
        return batch_unshuffle_ddp(k, idx_unshuffle)

    def ssl_loss(self, v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        """MoCo's InfoNCE for queries of ``v1`` and keys of ``v2`` (class docstring)."""
        q = F.normalize(self.project(self.grad_reverse(v1)), dim=1)
        if q.shape[1] != self.queue.shape[0]:
            raise ValueError(f'projections have {q.shape[1]} dims but the queue holds '
                             f'feat_dim={self.queue.shape[0]}')
        k = self.keys(v2)
        l_pos = (q * k).sum(dim=1, keepdim=True)
        l_neg = q @ self.queue.clone().detach()
        loss = self.head.loss(l_pos, l_neg)
        if self.trains_fb():
            self._dequeue_and_enqueue(k)
        return loss
