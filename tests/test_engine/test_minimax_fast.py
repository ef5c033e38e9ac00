"""Mixed precision, gradient accumulation and channels-last in MinimaxOptimWrapper.

AMP on CPU: mmengine's ``AmpOptimWrapper`` refuses to be built without a GPU
(a device assertion in its constructor), so these tests patch that assertion
only. Everything else is real: autocast runs in bfloat16 on CPU (mmengine's
``autocast`` picks the device) and the shared scaler is a real
``torch.amp.GradScaler('cpu')``. float16 autocast and CUDA speed are GPU work.
mmaction2's ``BaseHead.loss_by_feat`` computes top-k accuracy in numpy, which
has no bfloat16, so under bf16 the tests hand it float32 scores (fp16, the
default AMP dtype on GPUs, does not need this).
"""
import copy

import pytest
import torch
import torch.nn as nn
from conftest import make_batch, tiny_model_cfg

from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

W = 0.5  # a power of two: the reversal and the explicit minus round alike


def small_batch(seed=0):
    return make_batch(n=2, t=4, size=16, seed=seed)


def build(dtype=torch.float64, wrapper_type='OptimWrapper', lr=1.0, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg()).to(dtype)
    accumulate = kwargs.pop('accumulative_counts', 1)
    cfg = dict(type='MinimaxOptimWrapper', ssl_weight=W, **kwargs)
    for b in ('anonymizer', 'recognizer', 'privacy'):
        cfg[b] = dict(type=wrapper_type, optimizer=dict(type='SGD', lr=lr),
                      accumulative_counts=accumulate)
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=cfg))(model)
    return model, wrapper


def fa_params(model):
    return dict(model.data_preprocessor.anonymizer.named_parameters())


def fa_grad_of_objective(model, data, seed, autocast=False):
    """grad_{f_A}(L_T - w L_B) via an independent copy without gradient reversal."""
    twin = copy.deepcopy(model)
    twin.privacy_head.grad_reverse = nn.Identity()
    twin.requires_grad_(True)
    torch.manual_seed(seed)
    ctx = torch.autocast('cpu', dtype=torch.bfloat16) if autocast else torch.enable_grad()
    with ctx:
        batch = twin.data_preprocessor(copy.deepcopy(data), True)
        losses = twin(**batch, mode='loss')
    objective = losses['loss_cls'] - W * losses['loss_ssl']
    params = fa_params(twin)
    grads = torch.autograd.grad(objective, list(params.values()))
    return dict(zip(params, grads))


@pytest.fixture
def amp_on_cpu(monkeypatch):
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_module
    from mmaction.models.heads.base import BaseHead

    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)
    loss_by_feat = BaseHead.loss_by_feat
    monkeypatch.setattr(BaseHead, 'loss_by_feat',
                        lambda self, scores, samples: loss_by_feat(self, scores.float(), samples))


def _share_cpu_scaler(wrapper, init_scale):
    scaler = torch.amp.GradScaler('cpu', init_scale=init_scale)
    wrapper.loss_scaler = scaler
    for w in wrapper.optim_wrappers.values():
        w.loss_scaler = scaler
    return scaler


def test_amp_branches_share_one_scaler_and_step_with_unscaled_gradient(amp_on_cpu):
    model, wrapper = build(torch.float32, 'AmpOptimWrapper')
    scalers = {id(w.loss_scaler) for w in wrapper.optim_wrappers.values()}
    assert wrapper.use_amp and len(scalers) == 1 and id(wrapper.loss_scaler) in scalers
    scaler = _share_cpu_scaler(wrapper, init_scale=256.)
    data = small_batch()
    expected = fa_grad_of_objective(model, data, seed=3, autocast=True)
    before = {k: v.detach().clone() for k, v in fa_params(model).items()}
    dtypes = []
    model.backbone.conv1.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    torch.manual_seed(3)
    model.train_step(copy.deepcopy(data), wrapper)  # step 1 under bf16 autocast
    assert dtypes == [torch.bfloat16]
    after = fa_params(model)
    for k, g in expected.items():  # SGD lr=1: the step is the unscaled gradient
        torch.testing.assert_close(before[k] - after[k].detach(), g, rtol=1e-3, atol=1e-6)
    assert scaler.get_scale() == 256.  # finite gradients: scale unchanged (growth after 2000)


def test_amp_inf_gradient_skips_the_step_and_backs_off_once(amp_on_cpu):
    model, wrapper = build(torch.float32, 'AmpOptimWrapper')
    scaler = _share_cpu_scaler(wrapper, init_scale=256.)
    model.train_step(small_batch(seed=0), wrapper)  # step 1
    assert wrapper.phase == 'adversary'
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    # An inf in an f_B gradient: f_B's step is skipped (GradScaler decides per
    # optimiser, as in PyTorch's multi-optimiser recipe) and the shared scale
    # backs off once, not once per branch.
    p = next(model.privacy_head.parameters())
    p.requires_grad_(True)  # frozen after step 1; the wrapper sets it again in step 2
    p.register_hook(lambda g: torch.full_like(g, float('inf')))
    model.train_step(small_batch(seed=1), wrapper)
    assert all(torch.equal(before[k], v.detach()) for k, v in model.named_parameters()
               if k.startswith('privacy_head'))
    assert scaler.get_scale() == 128.


def test_amp_and_plain_branches_cannot_be_mixed(amp_on_cpu):
    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    from spact_mm.engine import MinimaxOptimWrapper

    lin = nn.Linear(2, 2)
    with pytest.raises(ValueError, match='AmpOptimWrapper'):
        MinimaxOptimWrapper(
            anonymizer=AmpOptimWrapper(optimizer=torch.optim.SGD(lin.parameters(), lr=1)),
            recognizer=OptimWrapper(optimizer=torch.optim.SGD(lin.parameters(), lr=1)))


def test_accumulation_spans_a_minimax_step_and_averages_gradients():
    model, wrapper = build(accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 8)
    b0, b1 = small_batch(seed=0), small_batch(seed=1)
    g0 = fa_grad_of_objective(model, b0, seed=10)
    g1 = fa_grad_of_objective(model, b1, seed=11)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    phases = [wrapper.phase]
    torch.manual_seed(10)
    model.train_step(copy.deepcopy(b0), wrapper)
    assert all(torch.equal(before[k], v.detach()) for k, v in model.named_parameters())
    phases.append(wrapper.phase)
    torch.manual_seed(11)
    model.train_step(copy.deepcopy(b1), wrapper)
    after = fa_params(model)
    for k in g0:  # one SGD step (lr=1) on the mean gradient of the window
        torch.testing.assert_close(before['data_preprocessor.anonymizer.' + k] - after[k].detach(),
                                   (g0[k] + g1[k]) / 2, rtol=1e-7, atol=1e-10)
    for i in (2, 3, 4):  # the alternation counts minimax steps, i.e. windows of 2
        wrapper.minimax_iter = i
        phases.append(wrapper.phase)
    assert phases == ['anonymizer', 'anonymizer', 'adversary', 'adversary', 'anonymizer']


def test_last_short_window_is_scaled_by_its_length():
    model, wrapper = build(accumulative_counts=2)
    wrapper.initialize_count_status(model, 0, 3)  # windows [0, 1] and [2]
    assert [wrapper._window()[0]] == [2]
    wrapper.minimax_iter = 2
    assert wrapper._window() == (1, True)
    wrapper.minimax_iter = 0
    assert wrapper._window() == (2, False)


def test_channels_last_gives_the_same_training():
    data = [small_batch(seed=i) for i in range(2)]
    runs = []
    for channels_last in (False, True):
        model, wrapper = build(channels_last=channels_last, lr=0.1)
        for i, d in enumerate(data):
            torch.manual_seed(i)
            model.train_step(copy.deepcopy(d), wrapper)
        runs.append(model)
    ref, cl = runs
    assert cl.backbone.conv1.conv.weight.is_contiguous(memory_format=torch.channels_last_3d)
    conv2d = [m for m in cl.privacy_head.modules() if isinstance(m, nn.Conv2d)][0]
    assert conv2d.weight.is_contiguous(memory_format=torch.channels_last)
    for a, b in zip(ref.parameters(), cl.parameters()):
        # float64; channels-last kernels sum in another order
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
