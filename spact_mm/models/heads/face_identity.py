"""The identity discriminator D of learned face anonymization (Ren et al., ECCV 2018).

D looks at the (modified) faces of the anonymized clip and tries to tell who
the person is: face crops (``torchvision.ops.roi_align`` on the face boxes of
each frame) go through a small 2D backbone (any mmpretrain backbone) and a
linear embedding, and mmpretrain's ``ArcFaceClsHead`` (additive angular
margin, Deng et al., CVPR 2019) classifies the identity:

    ``L_D = -log(e^{s cos(theta_y + m)}
    / (e^{s cos(theta_y + m)} + sum_{j != y} e^{s cos theta_j}))``

with ``cos theta_j`` the cosine between the embedding and the weight of
identity j, ``s`` the scale and ``m`` the margin (``cos theta_y - m sin m`` when
``theta_y + m > pi``, as in ArcFace and mmpretrain). The paper used a face
verification model (a Siamese / angular-margin discriminator); an angular-margin
classifier over the training identities is the metric-learning form of it.

In the minimax loop (:class:`MinimaxOptimWrapper`): step 2 (``'adversary'``)
trains D on ``L_D`` (and f_T on the action loss); step 1 (``'anonymizer'``)
trains the modifier M to *maximise* D's identity loss, through the gradient
reversal layer of :class:`BasePrivacyHead` (weight omega, ``ssl_weight``), so
that M's gradient of ``L_T + L_D`` is ``grad L_T - omega grad L_D``. With
``step1_objective='entropy'``, step 1 returns the entropy H of D's plain
(margin-free) softmax instead, which M then ascends through the same reversal:
a bounded alternative ([41]'s budget loss).
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS

from .base_privacy_head import BasePrivacyHead
from .bdq_privacy_head import categorical_entropy_with_logits


def face_boxes_of(data_samples: List, num_frames: int) -> List[torch.Tensor]:
    """The per-frame face boxes of a batch, in the frame order of ``anonymize_clips``.

    Every data sample carries ``face_boxes``, an (F_i, K, 4) tensor (F_i frames
    of its M views, K boxes per frame, rows with any negative coordinate are
    padding). Returns one (K_t, 4) tensor per frame, sample after sample.
    """
    out: List[torch.Tensor] = []
    for i, s in enumerate(data_samples):
        if 'face_boxes' not in s:
            raise KeyError(f'data sample {i} has no face_boxes: use PackFaceInputs on a '
                           'dataset whose annotations hold face_boxes')
        fb = torch.as_tensor(s.face_boxes, dtype=torch.float32)
        for t in range(fb.shape[0]):
            rows = fb[t].reshape(-1, 4)
            out.append(rows[(rows >= 0).all(1) & (rows[:, 2] > rows[:, 0])
                            & (rows[:, 3] > rows[:, 1])])
    if len(out) != num_frames:
        raise ValueError(f'{len(out)} frames of face boxes for {num_frames} frames')
    return out


@MODELS.register_module()
class FaceIdentityHead(BasePrivacyHead):
    """Identity discriminator D: face crops -> embedding -> ArcFace identity loss.

    Args:
        num_identities: Identities of the training set.
        backbone: 2D backbone config (any mmpretrain backbone).
        in_channels: Channels of the backbone's last output.
        embed_dim: Width of the face embedding.
        crop_size: Side of the face crops (``roi_align`` output).
        num_frames: Frames per clip whose faces D sees (evenly spread).
        scale: ArcFace scale ``s``.
        margin: ArcFace additive angular margin ``m`` (radians).
        step1_objective: ``'ce'`` (maximise L_D, the paper's objective) or
            ``'entropy'`` (maximise the entropy of D's softmax).
        ssl_weight: Initial omega (the minimax wrapper sets its own).
        init_cfg: mmengine init config.
    """

    loss_key = 'loss_identity'

    def __init__(self, num_identities: int,
                 backbone: dict = dict(type='mmpretrain.ResNet', depth=18, base_channels=16,
                                       stem_channels=16, strides=(1, 2, 2, 1)),
                 in_channels: int = 128, embed_dim: int = 64, crop_size: int = 32,
                 num_frames: int = 2, scale: float = 16., margin: float = 0.3,
                 step1_objective: str = 'ce', ssl_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(ssl_weight=ssl_weight, init_cfg=init_cfg)
        if step1_objective not in ('ce', 'entropy'):
            raise ValueError(f"step1_objective must be 'ce' or 'entropy', got {step1_objective!r}")
        self.num_identities = int(num_identities)
        self.backbone = MODELS.build(backbone)
        self.embed = nn.Linear(in_channels, embed_dim)
        self.margin_head = MODELS.build(dict(
            type='mmpretrain.ArcFaceClsHead', num_classes=num_identities, in_channels=embed_dim,
            scale=scale, margins=float(margin), loss=dict(type='mmpretrain.CrossEntropyLoss')))
        self.crop_size = int(crop_size)
        self.num_frames = int(num_frames)
        self.step1_objective = step1_objective

    # ------------------------------------------------------------------ pieces
    def frame_indices(self, t: int) -> torch.Tensor:
        """``num_frames`` evenly spaced frame indices of a T-frame clip."""
        return torch.linspace(0, t - 1, min(self.num_frames, t)).round().long()

    def face_crops(self, inputs: torch.Tensor, data_samples: List
                   ) -> tuple:
        """Face crops (K, C, S, S) of the chosen frames and the identity of each."""
        from torchvision.ops import roi_align

        clips = inputs.flatten(0, 1) if inputs.dim() == 6 else inputs  # (N*M, C, T, H, W)
        nm, _, t = clips.shape[:3]
        views = nm // len(data_samples)
        boxes = face_boxes_of(data_samples, nm * t)
        idx = self.frame_indices(t)
        frames, rois, ids = [], [], []
        for v in range(nm):
            ident = int(torch.as_tensor(data_samples[v // views].identity).reshape(-1)[0])
            for tt in idx.tolist():
                fb = boxes[v * t + tt]
                for box in fb:
                    rois.append(torch.cat([box.new_tensor([len(frames)]), box]))
                    ids.append(ident)
                frames.append(clips[v, :, tt])
        if not rois:
            return None, None
        rois_t = torch.stack(rois).to(clips.device, clips.dtype)
        crops = roi_align(torch.stack(frames), rois_t, output_size=self.crop_size,
                          spatial_scale=1.0, sampling_ratio=2, aligned=True)
        return crops, torch.tensor(ids, dtype=torch.long, device=clips.device)

    def embeddings(self, crops: torch.Tensor) -> torch.Tensor:
        """Face embeddings (K, embed_dim) of crops (K, C, S, S)."""
        feats = self.backbone(crops)
        feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
        return self.embed(F.adaptive_avg_pool2d(feat, 1).flatten(1))

    def margin_loss(self, emb: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """ArcFace loss of the embeddings (mean over faces), see the module docstring."""
        logits = self.margin_head((emb, ), ids)
        return F.cross_entropy(logits, ids)

    def cosine_logits(self, emb: torch.Tensor) -> torch.Tensor:
        """``s cos theta_j`` for every identity, without margin (identification)."""
        return self.margin_head((emb, ))

    # ------------------------------------------------------------------- loss
    def loss(self, inputs: torch.Tensor, data_samples: Optional[List] = None,
             aux_inputs: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """``loss_identity``: L_D (step 2) or the step-1 objective M maximises.

        Args:
            inputs: Anonymized clips (N, M, C, T, H, W) or (N, C, T, H, W).
            data_samples: Samples with ``face_boxes`` and ``identity``.
            aux_inputs: Unused.

        Returns:
            ``dict(loss_identity=..., identity_acc=...)`` (the second only logged).
        """
        crops, ids = self.face_crops(self.grad_reverse(inputs), data_samples)
        if crops is None:  # no face in the batch: a zero that keeps the graph
            return {self.loss_key: inputs.sum() * 0., 'identity_acc': inputs.new_zeros(())}
        emb = self.embeddings(crops)
        plain = self.cosine_logits(emb)
        acc = (plain.argmax(1) == ids).float().mean().detach()
        if self.maximised and self.step1_objective == 'entropy':
            # returned as is: the reversal layer makes M ascend it (as [41]'s head does)
            loss = categorical_entropy_with_logits(plain).mean()
        else:
            loss = self.margin_loss(emb, ids)
        return {self.loss_key: loss, 'identity_acc': acc}
