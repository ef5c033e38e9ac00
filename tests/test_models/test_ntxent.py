"""NTXentLoss against an independent float64 implementation of Eq. 5."""
import math

import pytest
import torch

from spact_mm.models.losses import NTXentLoss


def reference_ntxent(z1, z2, tau, cosine=True):
    """Eq. 5 literally, in float64 Python loops, averaged over the 2N anchors."""
    z1 = [[float(v) for v in row] for row in z1]
    z2 = [[float(v) for v in row] for row in z2]
    n = len(z1)

    def h(u, v):
        dot = sum(a * b for a, b in zip(u, v))
        if cosine:
            dot /= math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v))
        return math.exp(dot / tau)

    total = 0.0
    for anchors, others in ((z1, z2), (z2, z1)):  # Z_i anchors, then Z'_i anchors
        for i in range(n):
            num = h(anchors[i], others[i])
            den = sum((h(anchors[i], anchors[j]) if j != i else 0.0) + h(anchors[i], others[j])
                      for j in range(n))
            total += -math.log(num / den)
    return total / (2 * n)


@pytest.mark.parametrize('n', [2, 3, 8, 17])
@pytest.mark.parametrize('tau', [0.05, 0.1, 0.5, 1.0])
def test_ntxent_matches_eq5_cosine(n, tau):
    gen = torch.Generator().manual_seed(1000 * n + int(tau * 100))
    z1 = torch.randn(n, 16, generator=gen, dtype=torch.float64)
    z2 = torch.randn(n, 16, generator=gen, dtype=torch.float64)
    got = NTXentLoss(temperature=tau)(z1, z2).item()
    assert got == pytest.approx(reference_ntxent(z1, z2, tau), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize('n', [2, 5, 9])
def test_ntxent_matches_eq5_dot(n):
    gen = torch.Generator().manual_seed(n)
    z1 = 0.3 * torch.randn(n, 8, generator=gen, dtype=torch.float64)
    z2 = 0.3 * torch.randn(n, 8, generator=gen, dtype=torch.float64)
    got = NTXentLoss(temperature=0.2, similarity='dot')(z1, z2).item()
    assert got == pytest.approx(reference_ntxent(z1, z2, 0.2, cosine=False), rel=1e-9)


def test_ntxent_float32_close_and_differentiable():
    gen = torch.Generator().manual_seed(7)
    z1 = torch.randn(6, 32, generator=gen, requires_grad=True)
    z2 = torch.randn(6, 32, generator=gen, requires_grad=True)
    loss = NTXentLoss(0.1)(z1, z2)
    loss.backward()
    assert loss.item() == pytest.approx(reference_ntxent(z1.detach(), z2.detach(), 0.1),
                                        rel=1e-5)
    assert z1.grad is not None and torch.isfinite(z1.grad).all()


def test_ntxent_identical_views_lower_than_random():
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(8, 32, generator=gen)
    loss_fn = NTXentLoss(0.1)
    assert loss_fn(z, z) < loss_fn(z, torch.randn(8, 32, generator=gen))


def test_ntxent_rejects_bad_input():
    with pytest.raises(ValueError):
        NTXentLoss(temperature=0)
    with pytest.raises(ValueError):
        NTXentLoss(similarity='l2')
    with pytest.raises(ValueError):
        NTXentLoss()(torch.randn(4, 8), torch.randn(5, 8))
    with pytest.raises(ValueError):
        NTXentLoss()(torch.randn(1, 8), torch.randn(1, 8))
