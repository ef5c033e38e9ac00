"""The explicit minimax phase: one call per iteration, frozen-by-design modules, one loss key."""
import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from conftest import make_batch, tiny_model_cfg
from mmaction.structures import ActionDataSample

from spact_mm.models.heads import BasePrivacyHead
from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from spact_mm.utils.compat import set_gt_label

W = 0.25
R18 = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8)
NECK = dict(type='mmpretrain.NonLinearNeck', in_channels=64, hid_channels=16, out_channels=16,
            num_layers=2, with_avg_pool=True)
HEADS = dict(
    ssl=dict(type='SSLPrivacyHead', backbone=R18, neck=NECK),
    moco=dict(type='MoCoPrivacyHead', backbone=R18, neck=NECK, queue_len=8, feat_dim=16),
    rotnet=dict(type='RotNetPrivacyHead', backbone=R18, in_channels=64),
    supervised=dict(type='SupervisedPrivacyHead', num_attributes=3, backbone=R18,
                    in_channels=64),
    bdq=dict(type='BDQPrivacyHead', num_attributes=3, backbone=R18, in_channels=64),
    ensemble=dict(type='EnsemblePrivacyHead', heads=[
        dict(type='SSLPrivacyHead', backbone=R18, neck=NECK),
        dict(type='SSLPrivacyHead', backbone=R18, neck=NECK)]),
)


def build(privacy_head=None, branches=('anonymizer', 'recognizer', 'privacy')):
    torch.manual_seed(0)
    cfg = tiny_model_cfg()
    if privacy_head is not None:
        cfg['privacy_head'] = privacy_head
    model = MODELS.build(cfg)
    wcfg = dict(type='MinimaxOptimWrapper', ssl_weight=W)
    for b in branches:
        wcfg[b] = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=wcfg))(model)
    return model, wrapper


def with_privacy_labels(batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    for s in batch['data_samples']:
        s.set_field((torch.rand(3, generator=g) < 0.5).float(), 'privacy_label')
    return batch


def test_wrapper_calls_set_minimax_phase_once_per_iteration():
    model, wrapper = build()
    calls = []
    original = model.set_minimax_phase
    model.set_minimax_phase = lambda phase, w: (calls.append((phase, w)), original(phase, w))
    for i in range(3):
        model.train_step(make_batch(n=2, t=4, seed=i), wrapper)
    assert calls == [('anonymizer', W), ('adversary', W), ('anonymizer', W)]
    assert model.privacy_head.minimax_phase == 'anonymizer'
    assert model.privacy_head.ssl_weight == W


def test_moco_key_encoder_is_never_unfrozen():
    model, wrapper = build(HEADS['moco'])
    key_params = list(model.privacy_head.encoder_k.parameters())
    query_params = list(model.privacy_head.backbone.parameters())
    assert key_params and not any(p.requires_grad for p in key_params)
    seen = []
    for _ in range(2):  # step 1, then step 2 (f_B's branch active)
        with wrapper.optim_context(model):
            seen.append((wrapper.phase, any(p.requires_grad for p in key_params),
                         all(p.requires_grad for p in query_params)))
        wrapper.minimax_iter += 1
    assert seen == [('anonymizer', False, False), ('adversary', False, True)]


def test_parameters_frozen_by_design_stay_frozen_when_their_branch_is_active():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    stem = list(model.backbone.conv1.parameters())
    for p in stem:  # e.g. a backbone's frozen_stages
        p.requires_grad_(False)
    wcfg = dict(type='MinimaxOptimWrapper', ssl_weight=W,
                **{b: dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
                   for b in ('anonymizer', 'recognizer', 'privacy')})
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=wcfg))(model)
    before = [p.detach().clone() for p in stem]
    for i in range(2):
        model.train_step(make_batch(n=2, t=4, seed=i), wrapper)
    assert not any(p.requires_grad for p in stem)
    assert all(torch.equal(a, p) for a, p in zip(before, stem))
    assert any(p.requires_grad for p in model.cls_head.parameters())  # step 2 turned f_T on


@pytest.mark.parametrize('name', sorted(HEADS))
def test_every_head_is_a_base_privacy_head_with_one_loss_key(name):
    torch.manual_seed(0)
    head = MODELS.build(HEADS[name])
    assert isinstance(head, BasePrivacyHead)
    assert head.minimax_phase is None  # one default for every head: outside a minimax loop
    x = torch.randn(2, 1, 3, 4, 16, 16)
    samples = []
    for _ in range(2):
        s = set_gt_label(ActionDataSample(), torch.tensor([0]))
        s.set_field(torch.tensor([1., 0., 1.]), 'privacy_label')
        samples.append(s)
    for phase in (None, 'anonymizer', 'adversary'):
        head.set_minimax_phase(phase, W)
        out = head.loss(x, samples)
        assert [k for k in out if 'loss' in k] == [head.loss_key]
    with pytest.raises(ValueError, match='minimax phase'):
        head.set_minimax_phase('step1', W)


def test_ensemble_hands_phase_and_omega_to_every_member_and_owns_no_reversal():
    head = MODELS.build(HEADS['ensemble'])
    assert not hasattr(head, 'grad_reverse')
    head.set_minimax_phase('anonymizer', 0.4)
    assert [(h.minimax_phase, h.ssl_weight) for h in head.heads] == [('anonymizer', 0.4)] * 2


def test_grad_reverse_weight_is_a_deprecated_alias_of_ssl_weight():
    with pytest.warns(DeprecationWarning, match='ssl_weight'):
        head = MODELS.build(dict(HEADS['ssl'], grad_reverse_weight=0.3))
    assert head.ssl_weight == head.grad_reverse.weight == 0.3
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert MODELS.build(dict(HEADS['ssl'], ssl_weight=0.7)).ssl_weight == 0.7


def test_each_step_logs_its_own_losses_without_changing_the_total():
    model, wrapper = build()
    logs = [model.train_step(make_batch(n=2, t=4, seed=i), wrapper) for i in range(2)]
    for log, step, other in ((logs[0], 'step1', 'step2'), (logs[1], 'step2', 'step1')):
        assert not any(k.startswith(other) for k in log)
        for key in ('loss', 'loss_cls', 'loss_ssl'):
            assert float(log[f'{step}/{key}']) == float(log[key])
        # the copies are logged after the sum: the total is L_T + L_B, not twice it
        torch.testing.assert_close(log['loss'], log['loss_cls'] + log['loss_ssl'])
    model.set_minimax_phase(None, W)  # outside a minimax loop: no step keys
    _, plain = model.parse_losses(dict(loss_cls=torch.tensor(1.), loss_ssl=torch.tensor(2.)))
    assert sorted(plain) == ['loss', 'loss_cls', 'loss_ssl']


def test_evaluate_ssl_loss_serves_the_supervised_head_of_41():
    from spact_mm.evaluation import evaluate_ssl_loss

    model, wrapper = build(HEADS['supervised'])
    batches = [with_privacy_labels(make_batch(n=2, t=4, seed=i), seed=i) for i in range(2)]
    model.train_step(copy.deepcopy(batches[0]), wrapper)  # leaves the head in step 1
    assert model.privacy_head.minimax_phase == 'anonymizer'
    value = evaluate_ssl_loss(model, [copy.deepcopy(b) for b in batches])
    assert model.privacy_head.minimax_phase == 'anonymizer'  # restored
    # reference: f_B's BCE on the privacy labels (Wu et al. [41], step 2), in float64
    model.eval()
    total = 0.
    with torch.no_grad():
        for b in batches:
            data = model.data_preprocessor(copy.deepcopy(b), False)
            frames = data['inputs'].flatten(0, 1)[:, :, [0]].movedim(2, 1).flatten(0, 1)
            z = model.privacy_head.logits(frames)[0].double()
            y = torch.stack([s.privacy_label for s in b['data_samples']]).double()
            total += float(F.binary_cross_entropy_with_logits(z, y)) * len(y)
    assert value == pytest.approx(total / 4, rel=1e-5)


def test_threshold_hook_watches_the_privacy_heads_loss_key():
    from types import SimpleNamespace

    from mmengine.logging import MessageHub

    from spact_mm.engine import SSLLossThresholdHook

    hook = SSLLossThresholdHook(threshold=1.0, window=2)
    runner = SimpleNamespace(
        message_hub=MessageHub.get_instance('test_minimax_phase_hook'), iter=0,
        model=SimpleNamespace(privacy_loss_key='loss_privacy'),
        train_loop=SimpleNamespace(stop_training=False),
        logger=SimpleNamespace(info=lambda *a, **k: None))
    hook.before_train(runner)
    assert hook.loss_key == 'loss_privacy'
    for v in (0.5, 1.5, 1.5):
        runner.message_hub.update_scalar('train/loss_privacy', v)
        runner.message_hub.update_scalar('train/loss_ssl', 0.0)
        hook.after_train_iter(runner, runner.iter)
        runner.iter += 1
    assert runner.train_loop.stop_training and hook.stopped_at == 3
