"""The step-1 contrastive entropy objective of SSLPrivacyHead (anonymizer_objective='entropy')."""
import math

import pytest
import torch
from conftest import tiny_model_cfg

from spact_mm.models.losses import NTXentLoss
from spact_mm.registry import MODELS


def reference_entropy(z1, z2, tau):
    """Mean over the 2N anchors of -sum_c p log p, p over the 2N - 1 candidates (float64 loops)."""
    z = [[float(v) for v in row] for row in torch.cat([z1, z2])]
    m = len(z)

    def cos(u, v):
        return sum(a * b for a, b in zip(u, v)) / (
            math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))

    total = 0.0
    for a in range(m):
        h = [math.exp(cos(z[a], z[c]) / tau) for c in range(m) if c != a]
        s = sum(h)
        total += -sum(x / s * math.log(x / s) for x in h)
    return total / m


@pytest.mark.parametrize('n', [2, 5, 11])
@pytest.mark.parametrize('tau', [0.1, 0.5])
def test_entropy_matches_reference(n, tau):
    gen = torch.Generator().manual_seed(31 * n)
    z1 = torch.randn(n, 12, generator=gen, dtype=torch.float64)
    z2 = torch.randn(n, 12, generator=gen, dtype=torch.float64)
    got = NTXentLoss(temperature=tau).entropy(z1, z2).item()
    assert got == pytest.approx(reference_entropy(z1, z2, tau), rel=1e-9)


def test_entropy_gradient_is_finite():
    gen = torch.Generator().manual_seed(3)
    z1 = torch.randn(5, 8, generator=gen, requires_grad=True)
    z2 = torch.randn(5, 8, generator=gen, requires_grad=True)
    NTXentLoss(0.1).entropy(z1, z2).backward()
    assert torch.isfinite(z1.grad).all() and torch.isfinite(z2.grad).all()
    assert z1.grad.abs().sum() > 0


def test_entropy_peaks_at_chance_while_ntxent_rewards_anti_similar_positives():
    n, tau = 4, 0.1
    loss = NTXentLoss(temperature=tau)
    # negatives orthogonal to every anchor; the positive either orthogonal too (chance),
    # or anti-similar (cosine -1): the flicker shortcut's direction
    eye = torch.eye(2 * n, dtype=torch.float64)
    z1, z2_chance = eye[:n], eye[n:]
    z2_anti = -z1
    ent_chance = loss.entropy(z1, z2_chance).item()
    assert ent_chance == pytest.approx(math.log(2 * n - 1), rel=1e-12)
    assert loss(z1, z2_anti).item() > loss(z1, z2_chance).item()  # NT-Xent keeps growing
    assert loss.entropy(z1, z2_anti).item() < ent_chance  # the entropy does not


def test_head_uses_entropy_only_in_step1():
    cfg = dict(tiny_model_cfg()['privacy_head'], anonymizer_objective='entropy')
    head = MODELS.build(cfg)
    aux = torch.randn(4, 2, 3, 16, 16)
    head.set_minimax_phase('adversary', 1.0)
    torch.manual_seed(0)
    step2 = head.loss(None, aux_inputs=aux)['loss_ssl']
    head.set_minimax_phase('anonymizer', 1.0)
    torch.manual_seed(0)
    step1 = head.loss(None, aux_inputs=aux)['loss_ssl']
    n = aux.shape[0]
    with torch.no_grad():
        z = head.project(torch.cat([aux[:, 0], aux[:, 1]]))
    torch.testing.assert_close(step2, head.loss_module(z[:n], z[n:]))
    torch.testing.assert_close(step1, head.loss_module.entropy(z[:n], z[n:]))
    assert step1.item() <= math.log(2 * n - 1) + 1e-6


def test_bad_objective_is_rejected():
    with pytest.raises(ValueError, match='anonymizer_objective'):
        MODELS.build(dict(tiny_model_cfg()['privacy_head'], anonymizer_objective='kl'))


@pytest.mark.parametrize('method', ['forward', 'entropy'])
def test_mismatched_pairs_are_rejected(method):
    loss = NTXentLoss(0.1)
    with pytest.raises(ValueError, match=r'\(N, D\)'):
        getattr(loss, method)(torch.randn(4, 8), torch.randn(3, 8))
