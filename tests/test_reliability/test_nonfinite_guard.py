"""NaN/inf in L_T or L_B during minimax: step not applied, counted, run stopped after k."""
import copy
import os

import pytest
import torch
from conftest import ROOT, make_batch, tiny_model_cfg
from mmengine.hooks import Hook
from mmengine.logging import MessageHub

from spact_mm.engine.optimizers import NonFiniteLossError
from spact_mm.registry import HOOKS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS


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


# ------------------------------------------------ non-finite input (issue 16, items 2, 3)
def named_buffers(model):
    return {k: v.detach().clone() for k, v in model.named_buffers()}


def with_inf_pixel(batch):
    """The batch as float clips with one inf pixel in clip 1 (a corrupt decode)."""
    batch = copy.deepcopy(batch)
    batch['inputs'] = [x.float() for x in batch['inputs']]
    batch['inputs'][1][0, 0, 0, 0, 0] = float('inf')
    return batch


def test_inf_input_keeps_batchnorm_statistics_in_both_minimax_steps():
    MessageHub.get_instance('nonfinite_inf_input')
    model, wrapper = build(max_in_row=3)
    batch = make_batch(n=4, t=8, size=16)
    model.train_step(copy.deepcopy(batch), wrapper)  # a finite step 1
    bn = [k for k in named_buffers(model) if k.endswith('running_mean')]
    assert len(bn) > 20  # f_A, f_T and f_B all have BatchNorm
    before_p, before_b = params(model), named_buffers(model)
    for phase in ('adversary', 'anonymizer'):  # step 2, then step 1
        assert wrapper.phase == phase
        log = model.train_step(with_inf_pixel(batch), wrapper)
        assert not torch.isfinite(log['loss'])
    assert wrapper.nonfinite_skipped == 2
    after_b = named_buffers(model)
    assert all(torch.equal(before_b[k], after_b[k]) for k in before_b)  # no NaN statistics
    assert all(torch.equal(before_p[k], v) for k, v in params(model).items())
    model.train_step(copy.deepcopy(batch), wrapper)  # a finite step moves them again
    assert all(torch.isfinite(v).all() for v in named_buffers(model).values())
    assert any(not torch.equal(before_b[k], v) for k, v in named_buffers(model).items())


STAGE1_CFG = ROOT / 'configs/spact/spact-stage1_unet-tiny_200iter_synthetic-a.py'


def build_stage1(max_in_row=3):
    """Stage 1's model and optim wrapper, as its config builds them."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    torch.manual_seed(0)
    cfg = Config.fromfile(str(STAGE1_CFG))
    model = MODELS.build(cfg.model)
    wrapper_cfg = copy.deepcopy(cfg.optim_wrapper)
    wrapper_cfg['max_nonfinite_in_row'] = max_in_row
    return model, build_optim_wrapper(model, wrapper_cfg)


def test_stage1_skips_nonfinite_input_and_loss_then_stops(monkeypatch):
    MessageHub.get_instance('nonfinite_stage1')
    model, wrapper = build_stage1(max_in_row=3)
    batch = make_batch(n=4, t=4, size=16)
    model.train_step(copy.deepcopy(batch), wrapper)
    before_p, before_b = params(model), named_buffers(model)
    log = model.train_step(with_inf_pixel(batch), wrapper)  # an inf pixel
    assert not torch.isfinite(log['loss'])
    l1 = model._per_frame_l1
    monkeypatch.setattr(model, '_per_frame_l1', lambda *a: l1(*a) * float('nan'))  # NaN loss
    model.train_step(copy.deepcopy(batch), wrapper)
    assert wrapper.nonfinite_guard.skipped == 2 and wrapper.nonfinite_guard.in_row == 2
    assert all(torch.equal(before_p[k], v) for k, v in params(model).items())
    assert all(torch.equal(before_b[k], v) for k, v in named_buffers(model).items())
    assert MessageHub.get_current_instance().get_scalar('train/nonfinite_skipped').current() == 2
    with pytest.raises(NonFiniteLossError, match='3 non-finite losses in a row'):
        model.train_step(copy.deepcopy(batch), wrapper)
    state = wrapper.state_dict()['nonfinite_guard']  # saved with the optimiser, for resume
    _, fresh = build_stage1()
    fresh.load_state_dict(wrapper.state_dict())
    assert fresh.nonfinite_guard.state_dict() == state == dict(nonfinite_skipped=3,
                                                               nonfinite_in_row=3)


def nan_gradient(x):
    """``x`` forwards unchanged (a finite loss), but its backward pass is NaN (0 * inf)."""
    return x + 0 * torch.sqrt(x * 0)


def test_finite_loss_with_nan_gradient_is_not_stepped_in_both_minimax_steps(monkeypatch):
    MessageHub.get_instance('nonfinite_grad_minimax')
    model, wrapper = build(max_in_row=3)
    batch = make_batch(n=4, t=8, size=16)
    model.train_step(copy.deepcopy(batch), wrapper)  # a finite step 1
    loss = model.loss

    def poisoned(*args, **kwargs):
        out = loss(*args, **kwargs)
        out['loss_ssl'] = nan_gradient(out['loss_ssl'])
        return out

    monkeypatch.setattr(model, 'loss', poisoned)
    before = params(model)
    for i in range(2):  # step 2 then step 1: finite losses, NaN gradients, nothing moves
        log = model.train_step(copy.deepcopy(batch), wrapper)
        assert torch.isfinite(log['loss'])
        assert wrapper.nonfinite_skipped == i + 1 and wrapper.nonfinite_in_row == i + 1
    assert all(torch.equal(before[k], v) for k, v in params(model).items())
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert wrapper.minimax_iter == 3
    with pytest.raises(NonFiniteLossError, match='3 non-finite losses in a row'):
        model.train_step(copy.deepcopy(batch), wrapper)


def test_stage1_finite_loss_with_nan_gradient_is_not_stepped(monkeypatch):
    MessageHub.get_instance('nonfinite_grad_stage1')
    model, wrapper = build_stage1(max_in_row=2)
    batch = make_batch(n=4, t=4, size=16)
    model.train_step(copy.deepcopy(batch), wrapper)
    before = params(model)
    l1 = model._per_frame_l1
    monkeypatch.setattr(model, '_per_frame_l1', lambda *a: nan_gradient(l1(*a)))
    log = model.train_step(copy.deepcopy(batch), wrapper)
    assert torch.isfinite(log['loss'])
    assert wrapper.nonfinite_guard.skipped == 1 and wrapper.nonfinite_guard.in_row == 1
    assert all(torch.equal(before[k], v) for k, v in params(model).items())
    with pytest.raises(NonFiniteLossError, match='2 non-finite losses in a row'):
        model.train_step(copy.deepcopy(batch), wrapper)
    monkeypatch.setattr(model, '_per_frame_l1', l1)


def _config_files():
    return sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)


def test_every_config_trains_with_the_guard_and_checks_its_checkpoints():
    """Every training config (stages, ablations, protocols' fresh models), also with --amp."""
    from mmengine.config import Config

    from spact_mm.apis.train import _enable_amp, optim_wrapper_branches
    from spact_mm.engine.optimizers import MinimaxOptimWrapper
    from spact_mm.engine.optimizers.nonfinite_guard import _GuardedMixin
    from spact_mm.registry import OPTIM_WRAPPERS

    def guarded(wrapper_cfg, where):
        wrapper_cfg = copy.deepcopy(dict(wrapper_cfg))
        cls = OPTIM_WRAPPERS.get(wrapper_cfg.get('type', 'OptimWrapper'))
        assert issubclass(cls, (_GuardedMixin, MinimaxOptimWrapper)), where
        assert wrapper_cfg.get('max_nonfinite_in_row', 5) > 0, where
        if not optim_wrapper_branches(wrapper_cfg):
            _enable_amp(wrapper_cfg, where)  # what tools/train.py --amp makes of it
            assert issubclass(OPTIM_WRAPPERS.get(wrapper_cfg['type']), _GuardedMixin), where

    checked = 0
    for path in _config_files():
        cfg = Config.fromfile(str(path))
        wrappers = [(cfg.get(task, {}).get('optim_wrapper'), f'{path.name}:{task}')
                    for task in ('action', 'privacy')] + [(cfg.get('optim_wrapper'), path.name)]
        for wrapper_cfg, where in wrappers:
            if wrapper_cfg is not None:
                guarded(wrapper_cfg, where)
                checked += 1
        assert cfg.default_hooks.nonfinite_guard.type == 'NonFiniteGuardHook', path.name
    assert checked > 10


# ------------------------------- checkpoints are never written with NaN/inf (item 2)
@HOOKS.register_module(force=True)
class PoisonHook(Hook):
    """Test-only: an inf pixel in the batch of iteration ``inf_input_at``, and/or a NaN
    BatchNorm statistic in the model right before the final checkpoint."""

    priority = 'LOW'  # after_train: before FinalCheckpointHook (VERY_LOW)

    def __init__(self, inf_input_at=-1, nan_buffer_at_end=False):
        self.inf_input_at = inf_input_at
        self.nan_buffer_at_end = nan_buffer_at_end

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.inf_input_at:
            data_batch['inputs'] = with_inf_pixel(dict(inputs=data_batch['inputs']))['inputs']

    def after_train(self, runner):
        if self.nan_buffer_at_end:
            name, buf = next((k, v) for k, v in runner.model.named_buffers()
                             if k.endswith('running_var'))
            buf[0] = float('nan')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=2, val_videos_per_class=1)
    return root


def stage1_runner(work, data, **poison):
    import uuid

    from mmengine.runner import Runner

    from spact_mm.apis.demo import build_stage_cfg

    cfg = build_stage_cfg('stage1', str(work), data, max_iters=3, num_workers=0)
    cfg.work_dir = str(work)
    cfg.experiment_name = f'nonfinite_{uuid.uuid4().hex[:8]}'
    cfg.train_dataloader.batch_size = 4
    cfg.val_dataloader.batch_size = 4
    cfg.custom_hooks = [dict(type='FinalCheckpointHook'), dict(type='PoisonHook', **poison)]
    return cfg, Runner.from_cfg(cfg)


def test_stage1_run_with_an_inf_batch_writes_finite_weights(tiny_data, tmp_path):
    from spact_mm.utils import load_checkpoint_safely

    _, runner = stage1_runner(tmp_path, tiny_data, inf_input_at=1)
    runner.train()
    assert runner.optim_wrapper.nonfinite_guard.skipped == 1
    state = load_checkpoint_safely(str(tmp_path / 'final.pth'))['state_dict']
    assert sum(k.endswith('running_mean') for k in state) > 5
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_no_checkpoint_with_a_nan_buffer_is_written_nor_tested(tiny_data, tmp_path):
    from conftest import load_tool

    from spact_mm.apis.test import build_test_cfg
    parse_test_args = load_tool('test.py').parse_args
    from spact_mm.apis.test import test as run_test
    from spact_mm.engine.optimizers import NonFiniteCheckpointError

    cfg, runner = stage1_runner(tmp_path, tiny_data, nan_buffer_at_end=True)
    with pytest.raises(NonFiniteCheckpointError, match=r'running_var'):
        runner.train()
    assert not (tmp_path / 'final.pth').exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]  # no litter either
    assert (tmp_path / 'iter_3.pth').exists()  # written before the poison, finite
    # A checkpoint with NaN statistics written some other way: tools/test.py refuses it.
    ckpt = torch.load(tmp_path / 'iter_3.pth', weights_only=False)
    key = next(k for k in ckpt['state_dict'] if k.endswith('running_var'))
    ckpt['state_dict'][key][0] = float('nan')
    torch.save(ckpt, tmp_path / 'nan.pth')
    cfg.custom_hooks = []
    cfg.dump(str(tmp_path / 'cfg.py'))
    args = parse_test_args([str(tmp_path / 'cfg.py'), str(tmp_path / 'nan.pth'),
                            '--work-dir', str(tmp_path / 'test')])
    with pytest.raises(NonFiniteCheckpointError, match=r'nan\.pth.*running_var'):
        run_test(build_test_cfg(args))
