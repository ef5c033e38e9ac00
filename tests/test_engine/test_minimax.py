"""The minimax alternation of Sec. 3.3: which parameters move, and with which gradient."""
import copy

import pytest
import torch
import torch.nn as nn
from conftest import make_batch, tiny_model_cfg

from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

W = 0.3  # omega of Eq. 9 used throughout


def build(model_cfg=None, lr=1.0, steps=(1, 1), branches=('anonymizer', 'recognizer', 'privacy'),
          ssl_weight=W, **wrapper_kwargs):
    torch.manual_seed(0)
    model = MODELS.build(model_cfg or tiny_model_cfg()).double()
    cfg = dict(type='MinimaxOptimWrapper', ssl_weight=ssl_weight, anonymizer_steps=steps[0],
               adversary_steps=steps[1], **wrapper_kwargs)
    for b in branches:
        cfg[b] = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=lr))
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=cfg))(model)
    return model, wrapper


def branch_of(name):
    if name.startswith('data_preprocessor.anonymizer'):
        return 'anonymizer'
    if name.startswith('privacy_head'):
        return 'privacy'
    return 'recognizer'


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def changed_branches(before, model):
    out = set()
    for k, v in model.named_parameters():
        if not torch.equal(before[k], v.detach()):
            out.add(branch_of(k))
    return out


BRANCH_MODULES = dict(anonymizer=lambda m: [m.data_preprocessor.anonymizer],
                      recognizer=lambda m: [m.backbone, m.cls_head],
                      privacy=lambda m: [m.privacy_head])


def independent_losses(model, data, seed, eval_branches=()):
    """L_T and L_B through an exact copy of the model with plain autograd (no reversal).

    ``eval_branches`` are put in eval mode by hand, as the released code does.
    """
    twin = copy.deepcopy(model)
    twin.privacy_head.grad_reverse = nn.Identity()
    twin.requires_grad_(True)
    for b in eval_branches:
        for m in BRANCH_MODULES[b](twin):
            m.eval()
    torch.manual_seed(seed)
    batch = twin.data_preprocessor(copy.deepcopy(data), True)
    losses = twin(**batch, mode='loss')
    return twin, losses['loss_cls'], losses['loss_ssl']


def grads_of(loss, model, branch):
    names = [k for k, _ in model.named_parameters() if branch_of(k) == branch]
    params = dict(model.named_parameters())
    g = torch.autograd.grad(loss, [params[k] for k in names], allow_unused=True, retain_graph=True)
    return {k: (torch.zeros_like(params[k]) if gi is None else gi) for k, gi in zip(names, g)}


def test_step1_moves_only_fA_with_grad_of_LT_minus_w_LB():
    model, wrapper = build()
    data = make_batch()
    before = snapshot(model)
    twin, l_t, l_b = independent_losses(model, data, seed=11)
    expected = grads_of(l_t - W * l_b, twin, 'anonymizer')

    assert wrapper.phase == 'anonymizer'
    torch.manual_seed(11)
    model.train_step(copy.deepcopy(data), wrapper)

    assert changed_branches(before, model) == {'anonymizer'}
    # No weight gradients were built for the frozen f_T and f_B.
    assert all(p.grad is None for k, p in model.named_parameters() if branch_of(k) != 'anonymizer')
    # SGD with lr=1: theta_before - theta_after is exactly the gradient used.
    params = dict(model.named_parameters())
    for k, g in expected.items():
        torch.testing.assert_close(before[k] - params[k].detach(), g, rtol=1e-7, atol=1e-10)
    # The reversal matters: the plain sum L_T + w L_B gives a different update.
    wrong = grads_of(l_t + W * l_b, twin, 'anonymizer')
    assert any(not torch.allclose(before[k] - params[k].detach(), wrong[k]) for k in wrong)


def test_omega_zero_step1_moves_fA_on_LT_alone():
    """ssl_weight = 0 (a utility-only stage, e.g. STPrivacy's stage 2b): L_B has no say."""
    model, wrapper = build(ssl_weight=0.0)
    data = make_batch()
    before = snapshot(model)
    twin, l_t, l_b = independent_losses(model, data, seed=11)
    expected = grads_of(l_t, twin, 'anonymizer')
    torch.manual_seed(11)
    model.train_step(copy.deepcopy(data), wrapper)
    assert changed_branches(before, model) == {'anonymizer'}
    params = dict(model.named_parameters())
    for k, g in expected.items():
        torch.testing.assert_close(before[k] - params[k].detach(), g, rtol=1e-7, atol=1e-10)
    assert any(g.abs().max() > 0 for g in expected.values())
    adversarial = grads_of(l_t - W * l_b, twin, 'anonymizer')
    assert any(not torch.allclose(before[k] - params[k].detach(), adversarial[k])
               for k in adversarial)
    with pytest.raises(ValueError, match='ssl_weight'):
        build(ssl_weight=-0.1)


def test_step2_moves_fT_on_LT_and_fB_on_LB_without_fA_graph():
    model, wrapper = build()
    data = make_batch(seed=1)
    torch.manual_seed(5)
    model.train_step(copy.deepcopy(data), wrapper)  # step 1
    assert wrapper.phase == 'adversary'
    before = snapshot(model)
    twin, l_t, l_b = independent_losses(model, data, seed=12)
    exp_t = grads_of(l_t, twin, 'recognizer')
    exp_b = grads_of(l_b, twin, 'privacy')

    graph_flags = []
    handle = model.data_preprocessor.anonymizer.register_forward_hook(
        lambda m, i, o: graph_flags.append(o.requires_grad))
    torch.manual_seed(12)
    model.train_step(copy.deepcopy(data), wrapper)
    handle.remove()

    assert graph_flags == [False]  # f_A ran without recording autograd history
    assert changed_branches(before, model) == {'recognizer', 'privacy'}
    params = dict(model.named_parameters())
    for exp in (exp_t, exp_b):
        for k, g in exp.items():
            torch.testing.assert_close(before[k] - params[k].detach(), g, rtol=1e-7, atol=1e-10)


def test_phase_schedule_and_state_roundtrip():
    model, wrapper = build(steps=(2, 3))
    phases = []
    for i in range(7):
        phases.append(wrapper.phase)
        torch.manual_seed(i)
        model.train_step(make_batch(seed=i), wrapper)
    assert phases == ['anonymizer'] * 2 + ['adversary'] * 3 + ['anonymizer'] * 2
    wrapper.nonfinite_skipped, wrapper.nonfinite_in_row = 3, 1  # the guard's counters
    state = wrapper.state_dict()
    _, fresh = build(steps=(2, 3))
    fresh.load_state_dict(state)
    assert fresh.minimax_iter == 7 and fresh.phase == 'adversary'
    assert (fresh.nonfinite_skipped, fresh.nonfinite_in_row) == (3, 1)
    # a checkpoint from before the counters were saved still loads
    state['minimax'] = dict(minimax_iter=4)
    _, old = build(steps=(2, 3))
    old.load_state_dict(state)
    assert old.minimax_iter == 4 and (old.nonfinite_skipped, old.nonfinite_in_row) == (0, 0)


def test_missing_branch_is_never_updated():
    # Stage 2: no anonymizer optimiser, only step 2.
    model, wrapper = build(steps=(0, 1), branches=('recognizer', 'privacy'))
    before = snapshot(model)
    for i in range(2):
        model.train_step(make_batch(seed=i), wrapper)
    assert changed_branches(before, model) == {'recognizer', 'privacy'}


def test_ssl_weight_reaches_gradient_reversal():
    model, wrapper = build()
    model.train_step(make_batch(), wrapper)
    assert model.privacy_head.grad_reverse.weight == pytest.approx(W)


def test_invalid_configs_raise():
    with pytest.raises(ValueError, match='ssl_weight'):
        build_wrapper = dict(ssl_weight=1.5)
        from spact_mm.engine import MinimaxOptimWrapper
        MinimaxOptimWrapper(**build_wrapper, anonymizer=build()[1]['anonymizer'])
    with pytest.raises(ValueError, match='anonymizer'):
        build(branches=('recognizer', 'privacy'))


def bn_stats(model, branch):
    return [b.running_mean.clone() for m in BRANCH_MODULES[branch](model) for b in m.modules()
            if isinstance(b, nn.modules.batchnorm._BatchNorm)]


def stats_changed(before, after):
    assert before, 'the branch has no batch norm: the test would prove nothing'
    return any(not torch.equal(x, y) for x, y in zip(before, after))


@pytest.mark.parametrize('frozen_eval', [False, True])
def test_frozen_branches_eval_runs_frozen_nets_as_the_released_code(frozen_eval):
    """frozen_branches_eval: step 1 runs f_T, f_B in eval mode, step 2 runs f_A in eval mode."""
    model, wrapper = build(frozen_branches_eval=frozen_eval)
    data = make_batch(seed=3)
    before = snapshot(model)
    stats = {b: bn_stats(model, b) for b in BRANCH_MODULES}
    frozen = ('recognizer', 'privacy') if frozen_eval else ()
    twin, l_t, l_b = independent_losses(model, data, seed=21, eval_branches=frozen)
    expected = grads_of(l_t - W * l_b, twin, 'anonymizer')

    torch.manual_seed(21)
    model.train_step(copy.deepcopy(data), wrapper)  # step 1
    params = dict(model.named_parameters())
    for k, g in expected.items():
        torch.testing.assert_close(before[k] - params[k].detach(), g, rtol=1e-7, atol=1e-10)
    assert stats_changed(stats['anonymizer'], bn_stats(model, 'anonymizer'))
    for b in ('recognizer', 'privacy'):  # eval mode keeps the running statistics
        assert stats_changed(stats[b], bn_stats(model, b)) != frozen_eval
    assert all(m.training for m in model.modules())  # the modes are restored

    stats = {b: bn_stats(model, b) for b in BRANCH_MODULES}
    torch.manual_seed(22)
    model.train_step(copy.deepcopy(data), wrapper)  # step 2
    assert stats_changed(stats['anonymizer'], bn_stats(model, 'anonymizer')) != frozen_eval
    assert stats_changed(stats['recognizer'], bn_stats(model, 'recognizer'))
    assert all(m.training for m in model.modules())


def test_eval_modules_restores_per_module_flags():
    from spact_mm.engine.optimizers.minimax_optim_wrapper import eval_modules

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout())
    net[1].eval()  # a per-module choice (like mmaction2's norm_eval) must survive
    with eval_modules([net]):
        assert not any(m.training for m in net.modules())
    assert [m.training for m in net.modules()] == [True, True, False, True]
