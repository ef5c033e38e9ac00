"""Issue 12 remedies: SSL view augmentation before f_A, the temporal-consistency
loss (float64 reference), the minimax preprocessor, f_B restarting and the
ensemble's min reduction."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from spact_mm.models.data_preprocessors import (
    MinimaxAnonymizerDataPreprocessor,
    SSLViewAugmentation,
)
from spact_mm.models.losses import TemporalConsistencyLoss

OFF = dict(crop_factor=None, contrast=(0, 1, 1), hue=(0, 0, 0), saturation=(0, 1, 1),
           brightness=(0, 1, 1), grayscale_prob=0, gamma=(0, 1, 1), flip_prob=0, erase_prob=0)


def views(n=3, size=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, 3, size, size, generator=g)


# ------------------------------------------------------------ SSLViewAugmentation
def test_augmentation_all_off_is_identity():
    x = views()
    assert torch.equal(SSLViewAugmentation(**OFF)(x), x)


def test_augmentation_defaults_change_views_keep_shape_and_range():
    x = views(n=8)
    out = SSLViewAugmentation()(x, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out, x)  # the crop alone changes every view
    assert x.requires_grad is False and out.grad_fn is None


def test_augmentation_flip_and_grayscale_are_torchvision_ops():
    x = views()
    flip = SSLViewAugmentation(**dict(OFF, flip_prob=1.0))(x)
    assert torch.equal(flip, x.flip(-1))
    gray = SSLViewAugmentation(**dict(OFF, grayscale_prob=1.0))(x)
    assert torch.allclose(gray[:, :, 0], gray[:, :, 1]) and torch.allclose(gray[:, :, 1],
                                                                         gray[:, :, 2])
    # ITU-R 601 luma, written out independently of torchvision
    luma = 0.2989 * x[:, :, 0] + 0.587 * x[:, :, 1] + 0.114 * x[:, :, 2]
    assert torch.allclose(gray[:, :, 0], luma, atol=1e-3)


def test_augmentation_erases_a_zero_box_and_never_flips_it():
    x = views(n=16) * 0.5 + 0.25  # no zero pixels in the input
    aug = SSLViewAugmentation(**dict(OFF, flip_prob=0.5, erase_prob=0.25))
    out = aug(x, generator=torch.Generator().manual_seed(3))
    erased = (out == 0).flatten(2).any(-1)
    flipped = (out == x.flip(-1)).flatten(2).all(-1) & ~(out == x).flatten(2).all(-1)
    assert erased.any() and flipped.any()
    assert not (erased & flipped).any()


def test_augmentation_shares_the_crop_corner_within_a_pair():
    # one image twice, a fixed crop factor and nothing else: both views are one crop;
    # rows (other pairs) get other corners
    base = torch.rand(1, 1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    x = base.expand(6, 2, 3, 16, 16).clone()
    out = SSLViewAugmentation(**dict(OFF, crop_factor=(0.5, 0.5)))(
        x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[:, 0], out[:, 1])
    assert not all(torch.equal(out[0, 0], out[i, 0]) for i in range(1, 6))


@pytest.mark.parametrize('bad', [dict(hue=(1.5, 0, 0.1)), dict(crop_factor=(0.9, 0.5)),
                                 dict(flip_prob=2.0), dict(erase_size=(0, 0.1))])
def test_augmentation_rejects_bad_parameters(bad):
    with pytest.raises(ValueError):
        SSLViewAugmentation(**bad)


# --------------------------------------------------------- TemporalConsistencyLoss
def reference_tc(anon: np.ndarray, raw: np.ndarray, weight: float, margin: float,
                 power: int, symmetric: bool = False, saturation=None) -> float:
    """L_TC straight from its equation, with explicit loops in float64."""
    n, c, t, h, w = anon.shape
    total = 0.0
    for i in range(n):
        for k in range(t - 1):
            for ch in range(c):
                for y in range(h):
                    for x in range(w):
                        da = abs(anon[i, ch, k + 1, y, x] - anon[i, ch, k, y, x])
                        dx = abs(raw[i, ch, k + 1, y, x] - raw[i, ch, k, y, x])
                        if saturation is not None:
                            da, dx = min(da / saturation, 1.0), min(dx / saturation, 1.0)
                        total += max(0.0, da - dx - margin) ** power
                        if symmetric:
                            total += max(0.0, dx - da - margin) ** power
    return weight * total / (n * (t - 1) * c * h * w)


@pytest.mark.parametrize('margin,power,symmetric,saturation', [
    (0.0, 1, False, None), (0.05, 2, False, None), (0.02, 1, True, None), (0.0, 1, True, 0.3),
    (0.01, 2, False, 0.5)])
def test_temporal_consistency_matches_float64_reference(margin, power, symmetric, saturation):
    g = torch.Generator().manual_seed(0)
    raw = torch.rand(2, 3, 4, 5, 6, generator=g, dtype=torch.float64)
    anon = torch.rand(2, 3, 4, 5, 6, generator=g, dtype=torch.float64)
    loss = TemporalConsistencyLoss(loss_weight=3.0, margin=margin, power=power,
                                   symmetric=symmetric, saturation=saturation)(anon, raw)
    assert loss.item() == pytest.approx(reference_tc(anon.numpy(), raw.numpy(), 3.0, margin,
                                                     power, symmetric, saturation), rel=1e-10)


def test_saturated_temporal_consistency_frees_the_contrast_of_moving_parts():
    """Halving the contrast of a strongly moving part costs the plain two-sided
    penalty, not the saturated one; removing the motion costs both."""
    raw = torch.zeros(1, 1, 4, 4, 4)
    raw[..., 1::2, :2, :2] = 0.8  # a part blinking at 0.8
    dimmer = raw * 0.5  # the same motion at half the contrast (0.4 > k)
    still = torch.zeros_like(raw)
    plain = TemporalConsistencyLoss(symmetric=True)
    sat = TemporalConsistencyLoss(symmetric=True, saturation=0.2)
    assert plain(dimmer, raw).item() > 0 and sat(dimmer, raw).item() == 0
    assert sat(still, raw).item() > 0
    with pytest.raises(ValueError, match='saturation'):
        TemporalConsistencyLoss(saturation=0.0)


def test_symmetric_temporal_consistency_penalises_a_still_output():
    raw = torch.rand(2, 3, 4, 5, 5, generator=torch.Generator().manual_seed(0))
    still = raw[:, :, :1].expand_as(raw).clone()
    assert TemporalConsistencyLoss(symmetric=True)(still, raw).item() > 0


def test_temporal_consistency_is_free_for_the_input_motion_and_grads_reach_f_a_only():
    g = torch.Generator().manual_seed(0)
    raw = torch.rand(2, 3, 4, 5, 5, generator=g)
    tc = TemporalConsistencyLoss()
    assert tc(raw.clone(), raw).item() == 0  # same motion: no penalty
    still = raw[:, :, :1].expand_as(raw).clone()  # a still output never exceeds
    assert tc(still, raw).item() == 0
    anon = raw.clone().requires_grad_(True)
    raw_g = raw.clone().requires_grad_(True)
    flicker = anon + 0.3 * torch.tensor([0., 1., 0., 1.]).view(1, 1, 4, 1, 1)
    loss = tc(flicker, raw_g)
    loss.backward()
    assert loss.item() > 0 and anon.grad.abs().sum() > 0 and raw_g.grad is None
    with pytest.raises(ValueError):
        tc(raw[:, :, :1], raw[:, :, :1])


# ------------------------------------------------ MinimaxAnonymizerDataPreprocessor
class Halve(nn.Module):
    """A per-frame f_A with a known output: x / 2."""

    def forward(self, x):
        return x / 2


def minimax_pre(**kwargs):
    return MinimaxAnonymizerDataPreprocessor(
        anonymizer=Halve(),
        preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW',
                          mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
        **kwargs)


def test_ssl_views_are_raw_frames_through_f_a_and_tc_is_returned():
    from conftest import make_batch

    pre = minimax_pre(ssl_views=dict(augment=None),
                      temporal_consistency=dict(type='TemporalConsistencyLoss', loss_weight=1.))
    batch = make_batch(n=3, t=4, size=8)
    clips = torch.stack(batch['inputs']).float() / 255.  # (N, 1, C, T, H, W) in [0, 1]
    out = pre(batch, training=True)
    aux = pre.to_unit(out['aux_inputs'], 2)  # (N, 2, C, H, W)
    assert aux.shape == (3, 2, 3, 8, 8)
    for n in range(3):  # each view is f_A(raw frame t) for two distinct frames t
        matches = [[torch.allclose(aux[n, v], clips[n, 0, :, t] / 2, atol=1e-5)
                    for t in range(4)] for v in range(2)]
        t1, t2 = (m.index(True) for m in matches)
        assert t1 != t2
    expected = TemporalConsistencyLoss(loss_weight=1.)(clips[:, 0] / 2, clips[:, 0])
    assert out['anonymizer_losses']['loss_tc'].item() == pytest.approx(expected.item(),
                                                                      abs=1e-6)
    assert 'raw_inputs' not in out
    val = pre(make_batch(n=3, t=4, size=8), training=False)  # validation: plain f_A
    assert 'aux_inputs' not in val and 'anonymizer_losses' not in val


def test_ssl_views_augment_auxiliary_images_before_f_a():
    from conftest import make_batch

    pre = minimax_pre(ssl_views=dict(augment=dict(type='SSLViewAugmentation',
                                                  **dict(OFF, flip_prob=1.0))))
    batch = make_batch(n=2, t=4, size=8)
    imgs = [torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8) for _ in range(2)]
    batch['aux_inputs'] = imgs
    out = pre(batch, training=True)
    expected = torch.stack(imgs).float().flip(-1) / 255. / 2
    assert torch.allclose(pre.to_unit(out['aux_inputs'], 2), expected, atol=1e-5)


def test_recognizer_adds_the_preprocessor_losses_and_inference_drops_the_options():
    from mmengine.config import Config

    from spact_mm.apis.inference import init_anonymizer

    cfg = Config.fromfile('configs/spact-remedies/'
                          'spact-stage3-tc_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py')
    pre = init_anonymizer(cfg, None, 'cpu')
    assert type(pre).__name__ == 'AnonymizerDataPreprocessor'
    from conftest import make_batch

    from spact_mm.registry import MODELS
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(make_batch(n=2, t=8, size=16), True)
    losses = model(**data, mode='loss')
    assert set(losses) >= {'loss_cls', 'loss_ssl', 'loss_tc'}
    assert losses['loss_tc'].requires_grad  # reaches f_A in step 1


# ------------------------------------------------------ f_B restart and ensemble min
def build_wrapper(**kwargs):
    from spact_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS

    model = nn.Module()
    model.data_preprocessor = nn.Module()
    model.data_preprocessor.anonymizer = nn.Linear(2, 2)
    model.backbone = nn.Linear(2, 2)
    model.cls_head = nn.Linear(2, 2)
    model.privacy_head = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    adam = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-2))
    cfg = dict(type='MinimaxOptimWrapper', anonymizer=adam, recognizer=adam, privacy=adam,
               **kwargs)
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type='MinimaxOptimWrapperConstructor',
                                                    optim_wrapper_cfg=cfg))(model)
    return model, wrapper


def run_iter(model, wrapper):
    from spact_mm.models.layers import GradientReversal

    model.grl = GradientReversal()
    with wrapper.optim_context(model):
        phase = wrapper.phase
        x = torch.randn(4, 2)
        a = model.data_preprocessor.anonymizer(x)
        loss = model.cls_head(model.backbone(a)).pow(2).mean() + model.privacy_head(
            model.grl(a)).pow(2).mean()
    wrapper.update_params(loss)
    return phase


def test_restart_reinitialises_f_b_clears_its_optimiser_and_warms_up():
    model, wrapper = build_wrapper(privacy_restart_interval=4, privacy_restart_warmup=2)
    phases = []
    for _ in range(4):
        phases.append(run_iter(model, wrapper))
    before = [p.detach().clone() for p in model.privacy_head.parameters()]
    others = [p.detach().clone() for p in model.backbone.parameters()]
    assert wrapper.optim_wrappers['privacy'].optimizer.state  # Adam moments exist
    with wrapper.optim_context(model):  # iteration 4: restart
        pass
    assert wrapper.privacy_restarts == 1
    assert not wrapper.optim_wrappers['privacy'].optimizer.state
    assert all(not torch.equal(a, b) for a, b in zip(before[:1], model.privacy_head.parameters()))
    assert torch.equal(model.privacy_head[1].running_mean, torch.zeros(3))  # BN reset
    assert all(torch.equal(a, b) for a, b in zip(others, model.backbone.parameters()))
    wrapper.update_params(torch.zeros((), requires_grad=True))
    for _ in range(5):
        phases.append(run_iter(model, wrapper))
    # 1:1 alternation, except the warm-ups after the restarts at 4 and 8 (2 iterations)
    assert phases == ['anonymizer', 'adversary', 'anonymizer', 'adversary', 'adversary',
                      'anonymizer', 'adversary', 'adversary', 'adversary']
    assert [wrapper_phase_at(wrapper, i) for i in range(10)] == [
        'anonymizer', 'adversary', 'anonymizer', 'adversary', 'adversary', 'adversary',
        'anonymizer', 'adversary', 'adversary', 'adversary']
    state = wrapper.state_dict()
    _, fresh = build_wrapper(privacy_restart_interval=4, privacy_restart_warmup=2)
    fresh.load_state_dict(state)
    assert fresh.privacy_restarts == wrapper.privacy_restarts == 2


def wrapper_phase_at(wrapper, it):
    saved, wrapper.minimax_iter = wrapper.minimax_iter, it
    try:
        return wrapper.phase
    finally:
        wrapper.minimax_iter = saved


def test_restart_options_are_checked():
    with pytest.raises(ValueError):
        build_wrapper(privacy_restart_interval=4, privacy_restart_warmup=4)
    with pytest.raises(ValueError):
        build_wrapper(privacy_restart_interval=-1)


def test_ensemble_min_uses_the_strongest_member_in_step_1_only():
    from spact_mm.registry import MODELS

    member = dict(type='SSLPrivacyHead',
                  backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8,
                                stem_channels=8),
                  neck=dict(type='mmpretrain.NonLinearNeck', in_channels=64, hid_channels=16,
                            out_channels=8, num_layers=2, with_avg_pool=True))
    head = MODELS.build(dict(type='EnsemblePrivacyHead', heads=[member, member],
                             reduction='min'))
    x = torch.randn(4, 1, 3, 4, 16, 16)
    for phase in ('anonymizer', 'adversary'):
        head.minimax_phase = phase
        torch.manual_seed(0)
        out = head.loss(x)
        members = torch.stack([out['ssl_0'], out['ssl_1']])
        want = members.min() if phase == 'anonymizer' else members.mean()
        assert out['loss_ssl'].item() == pytest.approx(want.item(), rel=1e-6)
    with pytest.raises(ValueError):
        MODELS.build(dict(type='EnsemblePrivacyHead', heads=[member, member], reduction='max'))


def reference_motion_only(raw: np.ndarray) -> np.ndarray:
    """The motion-only anchor from its equation in float64: y_t = clip(1/2 + (g_t - g_{t-1})
    / 2, 0, 1) with the BT.601 luma g; frame 0 repeats frame 1's difference ('repeat'), over C."""
    g = 0.2989 * raw[:, 0] + 0.587 * raw[:, 1] + 0.114 * raw[:, 2]  # (N, T, H, W)
    d = g[:, 1:] - g[:, :-1]
    d = np.concatenate([d[:, :1], d], axis=1)
    y = np.clip(0.5 + 0.5 * d, 0, 1)
    return np.repeat(y[:, None], raw.shape[1], axis=1)


def test_temporal_consistency_with_an_anchor_compares_with_the_anchor_motion():
    g = torch.Generator().manual_seed(0)
    raw = torch.rand(2, 3, 4, 5, 6, generator=g, dtype=torch.float64)
    anon = torch.rand(2, 3, 4, 5, 6, generator=g, dtype=torch.float64)
    loss = TemporalConsistencyLoss(loss_weight=2.0, symmetric=True,
                                   reference=dict(type='MotionOnlyAnonymizer'))(anon, raw)
    expected = reference_tc(anon.numpy(), reference_motion_only(raw.numpy()), 2.0, 0.0, 1, True)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # the anchor's own output is free; the raw clip is not
    anchored = TemporalConsistencyLoss(symmetric=True, reference=dict(type='MotionOnlyAnonymizer'))
    target = torch.from_numpy(reference_motion_only(raw.numpy()))
    assert anchored(target, raw).item() == pytest.approx(0.0, abs=1e-6)
    assert anchored(raw, raw).item() > 0.1


def test_an_anchor_must_be_parameter_free():
    from spact_mm.models.anonymizers.clip_utils import FixedReference

    with pytest.raises(ValueError, match='no parameters'):
        FixedReference(dict(type='UNetAnonymizer', base_channels=2, num_stages=1))


def test_stage_1_with_a_target_reproduces_the_anchor_eq_4():
    """Eq. 4 with R(x) in place of x: the per-frame L1 sum against the motion-only anchor."""
    from mmengine.registry import DefaultScope

    from spact_mm.registry import MODELS

    cfg = dict(type='AnonymizerReconstructor', target=dict(type='MotionOnlyAnonymizer'),
               data_preprocessor=dict(
                   type='AnonymizerDataPreprocessor',
                   preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'),
                   anonymizer=dict(type='MotionUNetAnonymizer', base_channels=2, num_stages=1)))
    with DefaultScope.overwrite_default_scope('spact_mm'):
        model = MODELS.build(cfg)
    g = torch.Generator().manual_seed(0)
    clips = torch.randint(0, 256, (2, 1, 3, 4, 8, 8), generator=g, dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=list(clips), data_samples=None), True)
    loss = model(**data, mode='loss')['loss_l1']
    raw = clips.flatten(0, 1).double().numpy() / 255
    with torch.no_grad():
        out = model.data_preprocessor.anonymizer(torch.from_numpy(raw).float()).double().numpy()
    expected = np.abs(reference_motion_only(raw) - out).sum(axis=(1, 3, 4)).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match='NCTHW'):
        with DefaultScope.overwrite_default_scope('spact_mm'):
            MODELS.build(dict(cfg, data_preprocessor=dict(
                type='AnonymizerDataPreprocessor',
                preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'),
                anonymizer=dict(type='UNetAnonymizer', base_channels=2, num_stages=1))))


def test_anchor_fidelity_matches_float64_reference_and_is_returned_in_training():
    from conftest import make_batch

    from spact_mm.models.losses import AnchorFidelityLoss

    g = torch.Generator().manual_seed(0)
    raw = torch.rand(2, 3, 4, 5, 6, generator=g, dtype=torch.float64)
    anon = torch.rand(2, 3, 4, 5, 6, generator=g, dtype=torch.float64)
    anchor = dict(type='MotionOnlyAnonymizer')
    loss = AnchorFidelityLoss(anchor, loss_weight=3.0)(anon, raw)
    expected = 3.0 * np.abs(anon.numpy() - reference_motion_only(raw.numpy())).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match='loss_weight'):
        AnchorFidelityLoss(anchor, loss_weight=-1.0)
    # through the stage-3 preprocessor: loss_anchor of f_A's clip (here x / 2) against R(x)
    pre = minimax_pre(anchor_fidelity=dict(type='AnchorFidelityLoss', reference=anchor))
    batch = make_batch(n=2, t=4, size=8)
    clips = torch.stack(batch['inputs']).double()[:, 0] / 255.
    out = pre(batch, training=True)
    want = np.abs(clips.numpy() / 2 - reference_motion_only(clips.numpy())).mean()
    assert out['anonymizer_losses']['loss_anchor'].item() == pytest.approx(want, abs=1e-5)
    assert 'anonymizer_losses' not in pre(make_batch(n=2, t=4, size=8), training=False)
