"""NaN/inf in L_T or L_B during minimax: step not applied, counted, run stopped after k."""
import copy

import pytest
import torch
from conftest import make_batch, tiny_model_cfg
from mmengine.logging import MessageHub

from spact_mm.engine.optimizers import NonFiniteLossError
from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def build(max_in_row=3):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    cfg = dict(type='MinimaxOptimWrapper', ssl_weight=0.5, max_nonfinite_in_row=max_in_row,
               **{b: dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
                  for b in ('anonymizer', 'recognizer', 'privacy')})
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=cfg))(model)
    return model, wrapper


def params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def inject(monkeypatch, model, key, value):
    """Make the recognizer's loss dict report ``value`` for ``key`` (L_T or L_B)."""
    loss = model.loss

    def bad_loss(*args, **kwargs):
        out = loss(*args, **kwargs)
        out[key] = out[key] * value
        return out

    monkeypatch.setattr(model, 'loss', bad_loss)


@pytest.mark.parametrize('key,value', [('loss_ssl', float('nan')), ('loss_cls', float('inf')),
                                       ('loss_ssl', float('inf'))])
def test_nonfinite_step_is_skipped_counted_then_stops(monkeypatch, key, value):
    MessageHub.get_instance(f'nonfinite_{key}_{value}')
    model, wrapper = build(max_in_row=3)
    batch = make_batch(n=4, t=8, size=16)
    model.train_step(copy.deepcopy(batch), wrapper)  # a finite step 1 (f_A moves)
    assert wrapper.minimax_iter == 1 and wrapper.nonfinite_skipped == 0

    inject(monkeypatch, model, key, value)
    before = params(model)
    for i in range(2):  # step 2 then step 1, both poisoned: nothing moves
        log = model.train_step(copy.deepcopy(batch), wrapper)
        assert not torch.isfinite(log['loss'])
        assert wrapper.nonfinite_skipped == i + 1 and wrapper.nonfinite_in_row == i + 1
    after = params(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    assert wrapper.minimax_iter == 3  # the alternation kept its schedule
    hub = MessageHub.get_current_instance()
    assert hub.get_scalar('train/nonfinite_skipped').current() == 2
    with pytest.raises(NonFiniteLossError, match='3 non-finite losses in a row'):
        model.train_step(copy.deepcopy(batch), wrapper)


def test_a_finite_step_resets_the_run_of_nonfinite_losses(monkeypatch):
    model, wrapper = build(max_in_row=2)
    batch = make_batch(n=4, t=8, size=16)
    loss = model.loss
    values = iter([float('nan'), 1.0, float('nan'), 1.0])

    def sometimes_nan(*args, **kwargs):
        out = loss(*args, **kwargs)
        out['loss_ssl'] = out['loss_ssl'] * next(values)
        return out

    monkeypatch.setattr(model, 'loss', sometimes_nan)
    before = params(model)
    for _ in range(4):
        model.train_step(copy.deepcopy(batch), wrapper)
    assert wrapper.nonfinite_skipped == 2 and wrapper.nonfinite_in_row == 0
    assert any(not torch.equal(before[k], v) for k, v in params(model).items())


def test_guard_can_be_disabled():
    model, wrapper = build(max_in_row=0)
    assert wrapper._guard_nonfinite(torch.tensor(float('nan'))) is False
