"""NT-Xent contrastive loss (Chen et al. 2020), Eq. 5 of SPAct."""
from typing import Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS


class _AllGatherWithGrad(torch.autograd.Function):
    """``all_gather`` whose backward sums every rank's gradient of its slice.

    Hand-written: mmpretrain's and mmaction2's ``GatherLayer`` keep only the
    local rank's own gradient (right when every rank computes the loss of all
    anchors, not for the per-rank anchors used here), and
    ``torch.distributed.nn.functional.all_gather``, which sums, is deprecated.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:  # type: ignore
        x = x.contiguous()
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x)
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor) -> torch.Tensor:  # type: ignore
        grad = torch.stack(grads)
        dist.all_reduce(grad)  # gradient of sum_r L_r with respect to every slice
        return grad[dist.get_rank()]


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` (N, D) of every rank along dim 0, keeping gradients.

    The backward pass returns to each rank the gradient, summed over all
    ranks' losses, with respect to its own ``x``. Under DDP, which averages
    gradients, the update is then that of the mean of the ranks' losses.
    """
    return torch.cat(_AllGatherWithGrad.apply(x), dim=0)


def _check_pairs(z1: torch.Tensor, z2: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``z1`` and ``z2`` are both (N, D) of one shape."""
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f'z1 and z2 must both be (N, D), got {tuple(z1.shape)} '
                         f'and {tuple(z2.shape)}')


@MODELS.register_module()
class NTXentLoss(nn.Module):
    """Normalised temperature-scaled cross entropy over a batch of pairs.

    For projections ``z1[i]`` (Z_i) and ``z2[i]`` (Z'_i) of two frames of video
    ``i``, Eq. 5 is::

        L^i = -log h(Z_i, Z'_i) / sum_j [1[j != i] h(Z_i, Z_j) + h(Z_i, Z'_j)]

    with ``h(u, v) = exp(u.v / (|u| |v| tau))``. Both views serve as anchors
    (the symmetric term for Z'_i swaps the roles of ``z1`` and ``z2``) and the
    loss is the mean over all 2N anchors, i.e. a cross entropy over the 2N x 2N
    similarity matrix with its diagonal removed.

    Args:
        temperature: tau in Eq. 5.
        similarity: ``'cosine'`` (Eq. 5) or ``'dot'`` (plain ``u.v / tau``
            without normalisation, as in the authors' released code).
        loss_weight: Multiplier of the loss.
        gather_distributed: Under ``torch.distributed`` with more than one
            process, use the projections of every rank as negatives (gathered
            with gradients), so the negatives of Eq. 5 grow with the number of
            GPUs. Each rank averages over its own 2N anchors, so the mean over
            the ranks (which DDP's gradient averaging optimises) is exactly
            Eq. 5 on the concatenated batch, if every rank has the same N.
            Without a process group it changes nothing.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 similarity: str = 'cosine',
                 loss_weight: float = 1.0,
                 gather_distributed: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if similarity not in ('cosine', 'dot'):
            raise ValueError(f"similarity must be 'cosine' or 'dot', got {similarity!r}")
        self.temperature = temperature
        self.similarity = similarity
        self.loss_weight = loss_weight
        self.gather_distributed = gather_distributed

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Compute Eq. 5 averaged over the 2N anchors.

        Args:
            z1: Projections of the first frames, shape (N, D).
            z2: Projections of the second frames, shape (N, D).

        Returns:
            Scalar loss.
        """
        _check_pairs(z1, z2)
        if (self.gather_distributed and dist.is_available() and dist.is_initialized()
                and dist.get_world_size() > 1):
            return self._forward_gathered(z1, z2)
        logits, targets = self._local_logits(z1, z2)
        return self.loss_weight * F.cross_entropy(logits, targets)

    def _local_logits(self, z1: torch.Tensor,
                      z2: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The 2N x 2N similarity logits (diagonal at -inf) and each anchor's positive."""
        n = z1.shape[0]
        if n < 2:
            raise ValueError('NT-Xent needs at least 2 pairs in the batch (negatives)')
        z = torch.cat([z1, z2], dim=0)
        if self.similarity == 'cosine':
            z = F.normalize(z, dim=1)
        logits = z @ z.t() / self.temperature
        self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(self_mask, float('-inf'))
        idx = torch.arange(n, device=z.device)
        return logits, torch.cat([idx + n, idx])

    def entropy(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Mean entropy of the anchors' distributions over their 2N - 1 candidates.

        For anchor ``a`` the candidates ``c != a`` get the probabilities
        ``p_a(c) = h(Z_a, Z_c) / sum_{c' != a} h(Z_a, Z_c')`` of Eq. 5's
        denominator; this returns ``loss_weight * mean_a -sum_c p_a(c) log p_a(c)``.
        It is at most ``log(2N - 1)``, reached when f_B cannot tell an anchor's
        positive from its negatives. Unlike NT-Xent itself, which keeps growing
        past that level when the positive becomes *less* similar than the
        negatives, the entropy is not raised by making two frames of one clip
        anti-similar (the SSL analogue of the negative-entropy budget loss of
        [41]). Local batch only (no cross-rank negatives).
        """
        _check_pairs(z1, z2)
        logits, _ = self._local_logits(z1, z2)
        m = logits.shape[0]
        # drop the diagonal (each anchor itself) instead of masking it: p log p at a
        # -inf logit is 0 forwards but 0 * -inf = nan backwards
        off_diag = ~torch.eye(m, dtype=torch.bool, device=logits.device)
        log_p = F.log_softmax(logits[off_diag].view(m, m - 1), dim=1)
        return self.loss_weight * -(log_p.exp() * log_p).sum(dim=1).mean()

    def _forward_gathered(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Eq. 5 for the local anchors against the candidates of all ranks."""
        n, rank, world = z1.shape[0], dist.get_rank(), dist.get_world_size()
        if self.similarity == 'cosine':
            z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
        # Candidates laid out as the single-process batch of all ranks:
        # [z1 of rank 0..R-1, z2 of rank 0..R-1].
        cand = torch.cat([all_gather_with_grad(z1), all_gather_with_grad(z2)], dim=0)
        total = n * world
        anchors = torch.cat([z1, z2], dim=0)
        logits = anchors @ cand.t() / self.temperature
        idx = torch.arange(n, device=z1.device) + rank * n
        own = torch.cat([idx, idx + total])  # each anchor's own column
        logits[torch.arange(2 * n, device=z1.device), own] = float('-inf')
        targets = torch.cat([idx + total, idx])
        return self.loss_weight * F.cross_entropy(logits, targets)
