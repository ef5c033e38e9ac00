"""BDQ (Kumawat & Nagahara, ECCV 2022): each step against an independent float64 numpy
reference written from its equation, the relaxation's gradients, BDQ's privacy head, and
tiny minimax runs of the configs/bdq demo configs through mmengine's Runner."""
import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from spact_mm.models.anonymizers import (
    BDQEncoder,
    LearnableQuantizer,
    anonymize_clips,
    frame_difference,
)
from spact_mm.models.heads import BDQPrivacyHead
from spact_mm.registry import MODELS
from spact_mm.utils.compat import set_gt_label

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs/bdq'
ENTROPY_CFG = CONFIGS / 'bdq-entropy_bdq-tiny-r3d18-r18_minimax-300iter_synthetic-a-person.py'
SSL_CFG = CONFIGS / 'bdq-ssl_bdq-tiny-r3d18-r18_minimax-300iter_synthetic-a.py'
PAPER_CFG = CONFIGS / 'bdq-ssl_bdq-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py'
BACKBONE = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8)


def _clips(n=2, c=3, t=5, h=9, w=8, seed=0):
    return torch.rand(n, c, t, h, w, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------ numpy references
def ref_difference(x: np.ndarray, first_frame: str) -> np.ndarray:
    """D_t = x_t - x_{t-1} along axis 2, frame 0 per mode (float64)."""
    x = x.astype(np.float64)
    if x.shape[2] == 1:
        return np.zeros_like(x)
    d = np.diff(x, axis=2)
    first = {'repeat': d[:, :, :1], 'zero': np.zeros_like(d[:, :, :1]),
             'wrap': x[:, :, :1] - x[:, :, -1:]}[first_frame]
    return np.concatenate([first, d], axis=2)


def ref_blur(x: np.ndarray, sigma: float, k: int, padding: str) -> np.ndarray:
    """Per-frame, per-channel 2D Gaussian convolution, float64, by explicit sums."""
    u = np.arange(k) - (k - 1) / 2
    g = np.exp(-u ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    kernel = g[:, None] * g[None, :]
    p = k // 2
    mode = {'zeros': 'constant', 'reflect': 'reflect', 'replicate': 'edge'}[padding]
    xp = np.pad(x.astype(np.float64), [(0, 0)] * 3 + [(p, p), (p, p)], mode=mode)
    h, w = x.shape[-2:]
    out = np.zeros(x.shape, np.float64)
    for i in range(k):
        for j in range(k):
            out += kernel[i, j] * xp[..., i:i + h, j:j + w]
    return out


def ref_range(x: np.ndarray, normalize: str):
    if normalize == 'fixed':
        return -1.0, 1.0
    if normalize == 'batch':
        return x.min(), x.max()
    flat = x.reshape(x.shape[0], -1)
    shape = (-1, ) + (1, ) * (x.ndim - 1)
    return flat.min(1).reshape(shape), flat.max(1).reshape(shape)


def ref_quantize(x: np.ndarray, levels: np.ndarray, bits: int, normalize: str,
                 temperature=None):
    """Hard (temperature None) or sigmoid-sum quantization in float64; also returns u."""
    x = x.astype(np.float64)
    n = 2 ** bits - 1
    m, big_m = ref_range(x, normalize)
    u = n * (x - m) / (big_m - m + 1e-4)
    if temperature is None:
        q = sum((u > b).astype(np.float64) for b in levels)
    else:
        q = sum(1 / (1 + np.exp(-temperature * (u - b))) for b in levels)
    return m + q * (big_m - m) / n, u


# ------------------------------------------------------------------------- quantizer
@pytest.mark.parametrize('normalize', ['clip', 'batch', 'fixed'])
@pytest.mark.parametrize('bits', [2, 4])
def test_quantizer_eval_equals_independent_hard_quantization(normalize, bits):
    quant = LearnableQuantizer(bits=bits, normalize=normalize)
    with torch.no_grad():  # trained-looking levels: unsorted, uneven, one out of range
        quant.levels.add_(torch.randn(quant.levels.shape,
                                      generator=torch.Generator().manual_seed(1)) * 0.3)
        quant.levels[0] = -0.7
    quant.eval()
    x = (_clips(seed=2) - 0.5) * torch.tensor([0.3, 1.0]).view(2, 1, 1, 1, 1)
    y = quant(x).double().numpy()
    ref, u = ref_quantize(x.numpy(), quant.levels.detach().double().numpy(), bits, normalize)
    # float32 and float64 may put a value exactly at a level on different sides
    near = np.abs(u[..., None] - quant.levels.detach().double().numpy()).min(-1) < 1e-4
    assert near.mean() < 0.01
    np.testing.assert_allclose(y[~near], ref[~near], rtol=0, atol=1e-5)
    # at most 2^bits values per clip (per batch for 'batch' and 'fixed' range)
    assert len(np.unique(y[0].round(5))) <= 2 ** bits


def test_quantizer_training_relaxations():
    x = (_clips(seed=3) - 0.5)
    levels = None
    for relaxation in ('sigmoid', 'ste'):
        quant = LearnableQuantizer(bits=4, temperature=5.0, relaxation=relaxation).train()
        levels = quant.levels.detach().double().numpy()
        xg = x.clone().requires_grad_(True)
        y = quant(xg)
        soft, _ = ref_quantize(x.numpy(), levels, 4, 'clip', temperature=5.0)
        hard, _ = ref_quantize(x.numpy(), levels, 4, 'clip')
        want = soft if relaxation == 'sigmoid' else hard
        np.testing.assert_allclose(y.detach().double().numpy(), want, rtol=0, atol=1e-4)
        weights = torch.randn(x.shape, generator=torch.Generator().manual_seed(4))
        gx, gb = torch.autograd.grad((y * weights).sum(), [xg, quant.levels])
        for g in (gx, gb):
            assert torch.isfinite(g).all() and float(g.abs().max()) > 0
    # the hard quantizer itself has no useful gradient: that is why training relaxes it
    quant.eval()
    xg = x.clone().requires_grad_(True)
    (gb, ) = torch.autograd.grad(quant(xg).sum(), [quant.levels], allow_unused=True)
    assert gb is None or float(gb.abs().max()) == 0


def test_sigmoid_relaxation_gradient_matches_finite_differences():
    """Autograd's gradient of the sigmoid sum (input and levels) against float64 finite
    differences."""
    from torch.func import functional_call

    quant = LearnableQuantizer(bits=3, temperature=2.0).double().train()
    x = (_clips(n=2, t=3, h=4, w=3, seed=5).double() - 0.5).requires_grad_(True)
    levels = quant.levels.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a, b: functional_call(quant, {'levels': b}, (a, )), (x, levels), eps=1e-6,
        atol=1e-5)


# -------------------------------------------------------------------- difference, blur
@pytest.mark.parametrize('first_frame', ['repeat', 'zero', 'wrap'])
@pytest.mark.parametrize('t', [1, 2, 6])
def test_difference_matches_numpy(first_frame, t):
    x = _clips(t=t, seed=6)
    got = frame_difference(x, first_frame).double().numpy()
    np.testing.assert_allclose(got, ref_difference(x.numpy(), first_frame), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='first_frame'):
        frame_difference(x, 'drop')


@pytest.mark.parametrize('padding', ['zeros', 'reflect', 'replicate'])
@pytest.mark.parametrize('sigma,k', [(3.0, 5), (1.3, 7), (0.8, 3)])
def test_blur_matches_float64_gaussian_convolution(padding, sigma, k):
    enc = BDQEncoder(sigma=sigma, kernel_size=k, padding_mode=padding)
    x = _clips(seed=7)
    got = enc.blur(x).detach().double().numpy()
    np.testing.assert_allclose(got, ref_blur(x.numpy(), sigma, k, padding), rtol=0, atol=1e-5)


def test_blur_sigma_gradient_matches_finite_differences():
    enc = BDQEncoder(sigma=1.5, kernel_size=5).double()
    x = _clips(n=1, t=2, h=6, w=6, seed=8).double()
    log_sigma = enc.log_sigma.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda ls: _blur(enc, ls, x), (log_sigma, ), eps=1e-6,
                                    atol=1e-6)


def _blur(enc, log_sigma, x):
    """enc.blur with ``log_sigma`` swapped in (torch.func.functional_call runs forward)."""
    from torch.func import functional_call

    class _Blur(torch.nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.enc = enc

        def forward(self, x):
            return self.enc.blur(x)

    return functional_call(_Blur(enc), {'enc.log_sigma': log_sigma}, (x, ))


# ------------------------------------------------------------------------- the encoder
@pytest.mark.parametrize('normalize', ['clip', 'fixed'])
def test_encoder_eval_is_blur_difference_hard_quantization(normalize):
    enc = BDQEncoder(sigma=1.7, kernel_size=5, normalize=normalize, first_frame='repeat').eval()
    with torch.no_grad():
        enc.quantizer.levels.add_(0.2)
    x = _clips(seed=9)
    y = anonymize_clips(enc, x).detach().double().numpy()
    d = ref_difference(ref_blur(x.numpy(), 1.7, 5, 'zeros'), 'repeat')
    levels = enc.quantizer.levels.detach().double().numpy()
    q, u = ref_quantize(d, levels, 4, normalize)
    ref = np.clip((q + 1) / 2, 0, 1)
    near = np.abs(u[..., None] - levels).min(-1) < 1e-4
    assert y.shape == x.shape and near.mean() < 0.01
    np.testing.assert_allclose(y[~near], ref[~near], rtol=0, atol=1e-5)
    assert 0 <= y.min() and y.max() <= 1


def test_encoder_training_gradient_reaches_every_parameter_and_input():
    enc = BDQEncoder().train()
    x = _clips(seed=10).requires_grad_(True)
    y = enc(x)
    assert 0 <= float(y.min()) and float(y.max()) <= 1
    w = torch.randn(y.shape, generator=torch.Generator().manual_seed(11))
    grads = torch.autograd.grad((y * w).sum(), [x, enc.log_sigma, enc.quantizer.levels])
    for g in grads:
        assert torch.isfinite(g).all() and float(g.abs().max()) > 0


def test_encoder_still_image_is_constant_and_errors():
    enc = BDQEncoder().eval()
    still = _clips(t=1, seed=12)
    y = enc(still)
    assert torch.equal(y, torch.full_like(y, float(y.flatten()[0])))
    fixed = BDQEncoder(learn_sigma=False, learn_levels=False)
    assert not list(fixed.parameters())
    with pytest.raises(ValueError, match='clip-level'):
        enc(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match='kernel_size'):
        BDQEncoder(kernel_size=4)
    with pytest.raises(ValueError, match='normalize'):
        BDQEncoder(normalize='global')


def test_encoder_clip_output_does_not_depend_on_the_batch():
    enc = BDQEncoder().eval()
    x = _clips(n=3, seed=13)
    alone = enc(x[:1])
    torch.testing.assert_close(enc(x)[:1], alone)
    batch = BDQEncoder(normalize='batch').eval()
    assert not torch.allclose(batch(x)[:1], batch(x[:1]))  # the released range: batch-wide


# ------------------------------------------------------------------------- the head
def _head(**kw) -> BDQPrivacyHead:
    torch.manual_seed(0)
    return BDQPrivacyHead(num_attributes=3, backbone=BACKBONE, in_channels=64, **kw)


def _samples(labels):
    out = []
    for y in labels:
        s = set_gt_label(ActionDataSample(), torch.tensor([0]))
        s.set_field(torch.as_tensor(y, dtype=torch.float32), 'privacy_label')
        out.append(s)
    return out


def test_head_random_frames_come_from_their_own_clip():
    head = _head(num_frames=2)
    clips = torch.arange(3 * 4, dtype=torch.float32).view(3, 1, 1, 4, 1, 1).expand(
        3, 1, 3, 4, 2, 2)
    torch.manual_seed(0)
    frames = head.frames(clips)
    assert frames.shape == (6, 3, 2, 2)
    owner = (frames[:, 0, 0, 0] // 4).long()
    assert owner.tolist() == [0, 0, 1, 1, 2, 2]
    seen = set()
    for _ in range(20):
        seen |= set((head.frames(clips)[:, 0, 0, 0] % 4).long().tolist())
    assert seen == {0, 1, 2, 3}


def test_head_single_label_entropy_and_cross_entropy_against_float64():
    head = _head(label_type='single_label', frame_sampling='even').eval()
    clips = torch.randn(3, 3, 4, 16, 16)
    frames = head.frames(clips)
    z = head.logits(frames)[0].double()
    p = torch.softmax(z, -1)
    h_ref = float((-(p * p.log()).sum(-1)).mean())
    head.minimax_phase = 'anonymizer'
    out = head.loss(clips, _samples([2, 0, 1]))
    assert float(out['loss_privacy']) == pytest.approx(h_ref, rel=1e-5)
    assert 0 < h_ref <= math.log(3)
    head.minimax_phase = 'adversary'
    ce_ref = float(-(p.log()[torch.arange(3), torch.tensor([2, 0, 1])]).mean())
    for labels in ([2, 0, 1], [[0, 0, 1], [1, 0, 0], [0, 1, 0]]):  # indices or one-hot
        out = head.loss(clips, _samples(labels))
        assert float(out['loss_privacy']) == pytest.approx(ce_ref, rel=1e-5)
    with pytest.raises(ValueError, match='single_label'):
        head.loss(clips, _samples([[1, 1, 0], [1, 0, 0], [0, 1, 0]]))
    with pytest.raises(ValueError, match='class indices'):
        head.loss(clips, _samples([3, 0, 1]))


def test_head_multi_label_step1_sends_reversed_entropy_gradient():
    head = _head(frame_sampling='even').eval()
    head.minimax_phase = 'anonymizer'
    head.grad_reverse.weight = 0.5
    clips = torch.randn(2, 3, 4, 16, 16, requires_grad=True)
    out = head.loss(clips, _samples([[1, 0, 1], [0, 0, 1]]))
    ref_in = clips.detach().clone().requires_grad_(True)
    p = torch.sigmoid(head.logits(head.frames(ref_in))[0].double())
    h = (-(p * p.log()) - (1 - p) * (1 - p).log()).mean()
    assert float(out['loss_privacy']) == pytest.approx(float(h), rel=1e-5)
    out['loss_privacy'].backward()
    h.backward()
    torch.testing.assert_close(clips.grad, -0.5 * ref_in.grad.float(), rtol=1e-4, atol=1e-8)


# ------------------------------------------------------------------ configs and Runner
@pytest.mark.parametrize('path', [ENTROPY_CFG, SSL_CFG, PAPER_CFG], ids=lambda p: p.name)
def test_configs_build_with_bdq(path):
    cfg = Config.fromfile(str(path))
    model = MODELS.build(cfg.model)
    assert isinstance(model.data_preprocessor.anonymizer, BDQEncoder)
    assert cfg.load_from is None
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert 'SSLLossThresholdHook' not in hooks
    if path == ENTROPY_CFG:
        assert isinstance(model.privacy_head, BDQPrivacyHead)
    else:
        assert type(model.privacy_head).__name__ == 'SSLPrivacyHead'


def _runner(cfg_path, tmp_path, data):
    from mmengine.runner import Runner

    cfg = Config.fromfile(str(cfg_path))
    ds = cfg.train_dataloader.dataset
    ds.ann_file = ds.ann_file.replace('data/synthetic', data)
    ds.data_prefix = dict(video=data)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.custom_hooks = []
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 100
    return Runner.from_cfg(cfg)


@pytest.fixture(scope='module')
def synthetic_data(tmp_path_factory):
    import cv2  # noqa: F401  (before decord)

    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    data = str(tmp_path_factory.mktemp('bdq') / 'data')
    with contextlib.redirect_stdout(io.StringIO()):
        generate_synthetic_dataset(data, seed=0, videos_per_class=1, val_videos_per_class=1,
                                   num_frames=8, size=32)
    return data


@pytest.mark.parametrize('path', [ENTROPY_CFG, SSL_CFG], ids=['entropy', 'ssl'])
def test_runner_trains_two_minimax_iterations(path, tmp_path, synthetic_data):
    """Step 1 then step 2 through mmengine's Runner: finite losses; step 1 moves BDQ's
    sigma and levels (and, for BDQ's objective, f_T with them); step 2 moves f_B."""
    runner = _runner(path, tmp_path, synthetic_data)
    model = runner.model
    enc = model.data_preprocessor.anonymizer
    snap = {k: v.detach().clone() for k, v in model.named_parameters()}
    phases = []
    original = model.privacy_head.loss

    def record(*args, **kwargs):
        out = original(*args, **kwargs)
        phases.append(getattr(model.privacy_head, 'minimax_phase', None))
        return out

    model.privacy_head.loss = record
    runner.train()
    hub = runner.message_hub
    for key in ('train/loss', 'train/loss_cls'):
        assert math.isfinite(hub.get_scalar(key).current()), key
    changed = {k for k, v in model.named_parameters() if not torch.equal(snap[k], v)}
    enc_keys = {f'data_preprocessor.anonymizer.{k}' for k, _ in enc.named_parameters()}
    assert enc_keys == {'data_preprocessor.anonymizer.log_sigma',
                        'data_preprocessor.anonymizer.quantizer.levels'}
    assert enc_keys <= changed
    assert any(k.startswith('privacy_head.') for k in changed)
    backbone_changed = any(k.startswith('backbone.') for k in changed)
    assert backbone_changed  # f_T learns in step 1 (BDQ) or step 2 (SPAct)
    if path == ENTROPY_CFG:
        assert phases == ['anonymizer', 'adversary']
        assert math.isfinite(hub.get_scalar('train/loss_privacy').current())


SAME = str(ROOT / 'configs/protocols'
           / 'protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py')
TINY = {'action.train_cfg.max_iters': 1, 'privacy.train_cfg.max_iters': 1,
        'action.train_dataloader.batch_size': 2, 'action.val_dataloader.batch_size': 4,
        'privacy.train_dataloader.batch_size': 2, 'privacy.val_dataloader.batch_size': 4}


def test_protocol_runs_motion_only_by_name_and_a_trained_bdq(tmp_path, synthetic_data):
    """``tools/eval_protocol.py`` paths: the baseline by name, and a BDQ checkpoint with the
    architecture replaced as configs/bdq/README.md says."""
    from conftest import load_tool

    from spact_mm.evaluation import run_protocol
    parse_protocol_args = load_tool('eval_protocol.py').parse_args

    out = run_protocol(SAME, 'motion-only', str(tmp_path / 'motion'), data_root=synthetic_data,
                       cfg_options=TINY, progress=False, num_workers=0)
    assert set(out['metrics']) == {'action_top1', 'privacy_cmap', 'privacy_f1'}
    enc = BDQEncoder()
    with torch.no_grad():
        enc.quantizer.levels.add_(0.25)
    ckpt = tmp_path / 'bdq.pth'
    torch.save(dict(state_dict={f'data_preprocessor.anonymizer.{k}': v
                                for k, v in enc.state_dict().items()}), ckpt)
    args = parse_protocol_args([SAME, '--anonymizer', str(ckpt), '--work-dir', 'x',
                                '--cfg-options', 'anonymizer._delete_=True',
                                'anonymizer.type=BDQEncoder'])
    out = run_protocol(SAME, str(ckpt), str(tmp_path / 'bdq'), data_root=synthetic_data,
                       cfg_options=dict(TINY, **args.cfg_options), progress=False,
                       num_workers=0, tasks=['action'])
    assert 0 <= out['metrics']['action_top1'] <= 100
    with pytest.raises(ValueError, match='does not hold weights'):  # the protocol's UNet
        run_protocol(SAME, str(ckpt), str(tmp_path / 'unet'), data_root=synthetic_data,
                     cfg_options=TINY, progress=False, num_workers=0, tasks=['action'])
