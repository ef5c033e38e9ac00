"""NT-Xent contrastive loss (Chen et al. 2020), Eq. 5 of SPAct."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.registry import MODELS


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
    """

    def __init__(self,
                 temperature: float = 0.1,
                 similarity: str = 'cosine',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if similarity not in ('cosine', 'dot'):
            raise ValueError(f"similarity must be 'cosine' or 'dot', got {similarity!r}")
        self.temperature = temperature
        self.similarity = similarity
        self.loss_weight = loss_weight

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Compute Eq. 5 averaged over the 2N anchors.

        Args:
            z1: Projections of the first frames, shape (N, D).
            z2: Projections of the second frames, shape (N, D).

        Returns:
            Scalar loss.
        """
        if z1.shape != z2.shape or z1.dim() != 2:
            raise ValueError(f'z1 and z2 must both be (N, D), got {tuple(z1.shape)} '
                             f'and {tuple(z2.shape)}')
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
        targets = torch.cat([idx + n, idx])
        return self.loss_weight * F.cross_entropy(logits, targets)
