"""Supervised privacy head of Wu et al. [41]: losses per minimax phase, gradients,
ensemble, restarting, and the phase set by MinimaxOptimWrapper."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample

from spact_mm.models.heads import SupervisedPrivacyHead
from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from spact_mm.utils.compat import set_gt_label

BACKBONE = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8)


def _head(**kw):
    torch.manual_seed(0)
    return SupervisedPrivacyHead(num_attributes=3, backbone=BACKBONE, in_channels=64, **kw)


def _samples(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        s = set_gt_label(ActionDataSample(), torch.tensor([0]))
        s.set_field((torch.rand(3, generator=g) < 0.5).float(), 'privacy_label')
        out.append(s)
    return out


def _entropy64(logits):
    p = torch.sigmoid(logits.double())
    return (-(p * p.log()) - (1 - p) * (1 - p).log()).mean()


def test_step1_entropy_and_reversed_gradient():
    head = _head(num_frames=2).eval()  # eval: BN uses running stats, deterministic
    head.minimax_phase = 'anonymizer'
    head.grad_reverse.weight = 0.5
    x = torch.randn(2, 1, 3, 4, 16, 16, requires_grad=True)
    out = head.loss(x, _samples(2))
    # reference: entropy of the same frames without the reversal layer
    x_ref = x.detach().clone().requires_grad_(True)
    frames = x_ref.flatten(0, 1)[:, :, [0, 3]].movedim(2, 1).flatten(0, 1)
    h_ref = _entropy64(head.logits(frames)[0])
    assert float(out['loss_privacy']) == pytest.approx(float(h_ref), rel=1e-5)
    out['loss_privacy'].backward()
    h_ref.backward()
    torch.testing.assert_close(x.grad, -0.5 * x_ref.grad.float(), rtol=1e-4, atol=1e-7)


def test_step2_bce_on_privacy_labels():
    head = _head().eval()
    head.minimax_phase = 'adversary'
    x = torch.randn(3, 1, 3, 4, 16, 16)
    samples = _samples(3, seed=1)
    out = head.loss(x, samples)
    frames = x.flatten(0, 1)[:, :, [0]].movedim(2, 1).flatten(0, 1)
    z = head.logits(frames)[0].double()
    y = torch.stack([s.privacy_label for s in samples]).double()
    p = torch.sigmoid(z)
    bce_ref = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert float(out['loss_privacy']) == pytest.approx(float(bce_ref), rel=1e-5)
    with pytest.raises(KeyError):
        head.loss(x, [ActionDataSample() for _ in range(3)])


def test_ensemble_min_entropy_and_summed_bce():
    head = _head(num_models=2).eval()
    x = torch.randn(2, 1, 3, 2, 16, 16)
    frames = x.flatten(0, 1)[:, :, [0]].movedim(2, 1).flatten(0, 1)
    z = head.logits(frames)
    assert len(z) == 2 and not torch.allclose(z[0], z[1])
    head.minimax_phase = 'anonymizer'
    h = float(head.loss(x, _samples(2))['loss_privacy'])
    assert h == pytest.approx(min(float(_entropy64(zz)) for zz in z), rel=1e-5)
    head.minimax_phase = 'adversary'
    samples = _samples(2)
    y = torch.stack([s.privacy_label for s in samples])
    ref = sum(float(F.binary_cross_entropy_with_logits(zz, y)) for zz in z)
    assert float(head.loss(x, samples)['loss_privacy']) == pytest.approx(ref, rel=1e-5)


def test_restart_reinitialises_budget_models():
    head = _head(restart_interval=2).train()
    head.minimax_phase = 'adversary'
    x, samples = torch.randn(2, 1, 3, 2, 16, 16), _samples(2)
    w0 = head.fcs[0].weight.detach().clone()
    for _ in range(2):
        head.loss(x, samples)['loss_privacy'].backward()
        with torch.no_grad():
            head.fcs[0].weight.add_(1.0)  # stand-in for an optimiser step
    assert torch.allclose(head.fcs[0].weight, w0 + 2)
    head.loss(x, samples)  # 3rd update: restarted before its forward pass
    w = head.fcs[0].weight
    assert not torch.allclose(w, w0 + 2) and not torch.allclose(w, w0)
    assert float(w.abs().max()) <= 1 / 64 ** 0.5 + 1e-6  # nn.Linear's default init range


def test_minimax_wrapper_sets_the_phase():
    from conftest import make_batch, tiny_model_cfg

    cfg = tiny_model_cfg()
    cfg['privacy_head'] = dict(type='SupervisedPrivacyHead', num_attributes=3, backbone=BACKBONE,
                               in_channels=64)
    model = MODELS.build(cfg)
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='MinimaxOptimWrapperConstructor',
        optim_wrapper_cfg=dict(
            type='MinimaxOptimWrapper', ssl_weight=0.5,
            anonymizer=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)),
            recognizer=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)),
            privacy=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01)))))(model)
    batch = make_batch(n=2, t=4, size=16)
    for s in batch['data_samples']:
        s.set_field(torch.tensor([1., 0., 1.]), 'privacy_label')
    phases = []
    before = copy.deepcopy(model.privacy_head.state_dict())
    for _ in range(2):
        model.train_step(copy.deepcopy(batch), optim)
        phases.append(model.privacy_head.minimax_phase)
    assert phases == ['anonymizer', 'adversary']
    assert model.privacy_head.grad_reverse.weight == 0.5
    changed = any(not torch.equal(before[k], v) for k, v in
                  model.privacy_head.state_dict().items() if k.endswith('weight'))
    assert changed  # step 2 trained f_B with BCE
