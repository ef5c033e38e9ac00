"""RotNet as the SSL task of the privacy branch f_B (Table 5, "RotNet" row).

Gidaris et al., "Unsupervised Representation Learning by Predicting Image
Rotations" (ICLR 2018), the paper's ref. [12]: f_B learns to tell which of
the four rotations (0, 90, 180, 270 degrees) a frame went through; L_B is the
cross entropy of that 4-way prediction, in place of NT-Xent in Eq. 5.
mmpretrain 1.x ships no RotNet algorithm; the parts are mmpretrain's (its
backbones, ``GlobalAveragePooling`` neck and ``CrossEntropyLoss``), the
four-rotation batch is built here with ``torch.rot90``.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn

from spact_mm.registry import MODELS

from .ssl_privacy_head import SSLPrivacyHead

#: Rotations of RotNet, in quarter turns; the class label is the index.
NUM_ROTATIONS = 4


def rotation_batch(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The four rotations of every image (or clip) of a batch, and their labels.

    Rotation ``k`` turns the last two dims (H, W) by ``k`` quarter turns with
    ``torch.rot90(x, k, dims=(-2, -1))`` (counter-clockwise as displayed with
    row 0 on top). Square frames keep their shape under every rotation, so the
    four rotated batches can be stacked.

    Args:
        x: (B, C, H, W) frames or (B, C, T, H, W) clips, with H == W.

    Returns:
        ``(4B, ...)`` rotated batch, rotation-major (all 0-degree copies first),
        and the (4B,) int64 labels ``k``.

    Raises:
        ValueError: If the frames are not square.
    """
    h, w = x.shape[-2:]
    if h != w:
        raise ValueError(f'RotNet needs square frames (H == W) so that all four rotations '
                         f'share one shape, got H={h}, W={w}; resize or crop them first')
    rotated = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(NUM_ROTATIONS)])
    labels = torch.arange(NUM_ROTATIONS, device=x.device).repeat_interleave(x.shape[0])
    return rotated, labels


@MODELS.register_module()
class RotNetPrivacyHead(SSLPrivacyHead):
    """f_B + global pooling + linear 4-way rotation classifier, cross entropy.

    For each clip, the first frame of the pair drawn by S_F (or the first view
    of an auxiliary image) is rotated four ways (:func:`rotation_batch`);
    ``loss_ssl`` = L_B is the cross entropy of the rotation logits against the
    rotation labels, averaged over the 4N rotated frames. The frames enter
    through the :class:`GradientReversal` layer before being rotated, so step 1
    (Eq. 9) gives f_A ``-w * grad(L_B)`` and step 2 (Eq. 8) trains f_B and the
    classifier on L_B.

    Args:
        backbone: f_B config (any mmpretrain backbone; a 3D one with
            ``views='clips'`` rotates whole sub-clips).
        in_channels: Channels of the backbone's last output.
        neck: Global pooling (mmpretrain ``GlobalAveragePooling``).
        loss: Classification loss (mmpretrain ``CrossEntropyLoss``).
        frame_sampler: S_F config (see :class:`SSLPrivacyHead`).
        views: ``'frames'`` or ``'clips'`` (see :class:`SSLPrivacyHead`).
        clip_len: Sub-clip length for ``views='clips'``.
        ssl_weight: Initial omega of Eq. 9 (see :class:`BasePrivacyHead`).
        init_cfg: mmengine init config.
        grad_reverse_weight: Deprecated alias of ``ssl_weight``.
    """

    def __init__(self,
                 backbone: dict = dict(type='mmpretrain.ResNet', depth=50),
                 in_channels: int = 2048,
                 neck: dict = dict(type='mmpretrain.GlobalAveragePooling'),
                 loss: dict = dict(type='mmpretrain.CrossEntropyLoss'),
                 frame_sampler: dict = dict(mode='random'),
                 views: str = 'frames',
                 clip_len: Optional[int] = None,
                 ssl_weight: float = 1.0,
                 init_cfg: Optional[dict] = None,
                 grad_reverse_weight: Optional[float] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, loss=loss, frame_sampler=frame_sampler,
                         views=views, clip_len=clip_len, ssl_weight=ssl_weight,
                         init_cfg=init_cfg, grad_reverse_weight=grad_reverse_weight)
        self.fc = nn.Linear(in_channels, NUM_ROTATIONS)

    def rotation_logits(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Rotation logits (4B, 4) of the four rotations of ``x``, and their labels."""
        rotated, labels = rotation_batch(self.grad_reverse(x))
        return self.fc(self.project(rotated)), labels

    def ssl_loss(self, v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        """Rotation cross entropy on ``v1``; ``v2`` (the second view) is unused."""
        logits, labels = self.rotation_logits(v1)
        return self.loss_module(logits, labels)
