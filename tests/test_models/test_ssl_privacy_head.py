"""The temporal frame sampler S_F and SSLPrivacyHead."""
import pytest
import torch
from conftest import tiny_model_cfg

from spact_mm.models.heads import sample_frame_pairs
from spact_mm.registry import MODELS


@pytest.mark.parametrize('mode,distance', [('random', None), ('near', 3), ('far', 9)])
def test_sampler_respects_constraint_and_covers_pairs(mode, distance):
    torch.manual_seed(0)
    t1, t2 = sample_frame_pairs(4000, 16, mode, distance)
    gap = (t1 - t2).abs()
    assert (gap > 0).all()
    assert t1.min() >= 0 and t1.max() <= 15 and t2.min() >= 0 and t2.max() <= 15
    if mode == 'near':
        assert (gap < distance).all()
    if mode == 'far':
        assert (gap > distance).all()
    allowed = [(i, j) for i in range(16) for j in range(16) if i != j and (
        mode == 'random' or (mode == 'near' and abs(i - j) < distance)
        or (mode == 'far' and abs(i - j) > distance))]
    seen = set(zip(t1.tolist(), t2.tolist()))
    assert seen == set(allowed)  # uniform over allowed ordered pairs: all of them appear


def test_sampler_errors():
    with pytest.raises(ValueError, match='no frame pair'):
        sample_frame_pairs(2, 8, 'far', 10)
    with pytest.raises(ValueError, match='distance'):
        sample_frame_pairs(2, 8, 'near')
    with pytest.raises(ValueError, match='mode'):
        sample_frame_pairs(2, 8, 'middle', 2)


def test_head_picks_frames_of_the_same_clip():
    head = MODELS.build(tiny_model_cfg()['privacy_head'])
    clips = torch.arange(3 * 8, dtype=torch.float32).view(3, 1, 1, 8, 1, 1).expand(3, 1, 3, 8, 4, 4)
    torch.manual_seed(0)
    v1, v2 = head.frame_pairs(clips)
    assert v1.shape == (3, 3, 4, 4)
    # every frame carries its clip id * 8 + t: both views come from the same clip.
    assert torch.equal(v1[:, 0, 0, 0] // 8, torch.arange(3.)) and torch.equal(
        v2[:, 0, 0, 0] // 8, torch.arange(3.))
    assert (v1[:, 0, 0, 0] != v2[:, 0, 0, 0]).all()


def test_head_aux_views_and_gradient_reversal():
    head = MODELS.build(tiny_model_cfg()['privacy_head'])
    head.grad_reverse.weight = 0.25
    aux = torch.randn(4, 2, 3, 16, 16, requires_grad=True)
    loss = head.loss(None, aux_inputs=aux)['loss_ssl']
    loss.backward()
    g_rev = aux.grad.clone()
    aux.grad = None
    head.grad_reverse.weight = 1.0
    head.loss(None, aux_inputs=aux)['loss_ssl'].backward()
    # Same forward, gradient scaled by -0.25 vs -1.0.
    torch.testing.assert_close(g_rev, 0.25 * aux.grad)
    with pytest.raises(ValueError, match='aux_inputs'):
        head.loss(None, aux_inputs=torch.randn(4, 3, 3, 16, 16))
