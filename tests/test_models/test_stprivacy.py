"""STPrivacy f_A (Li et al., ICCV 2023): tubelet round trip, per-frame top-k, the masked
attention against a float64 reference written from its equation, the gradient blocking of
dropped tokens, the keep-ratio loss reaching the recognizer, and the configs."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from spact_mm.models.anonymizers import STPrivacyAnonymizer, TubeletSparsifier, anonymize_clips
from spact_mm.models.anonymizers.stprivacy import PolicyAttention, PolicyBlock, policy_softmax
from spact_mm.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs/stprivacy'
PAPER_CFGS = sorted(CONFIGS.glob('*ucf101-16x112x112.py'))
DEMO_CFGS = sorted(CONFIGS.glob('*synthetic-a*.py'))

# tubelets 2x4x4 of 3 channels: 96 pixels per tubelet <= 96 channels: exactly invertible
SMALL = dict(num_frames=4, img_size=16, tubelet_size=(2, 4, 4), embed_dims=96, num_layers=2,
             num_heads=4, mlp_ratio=1., sparsify_at=1)


def small(**kwargs) -> STPrivacyAnonymizer:
    torch.manual_seed(0)
    return STPrivacyAnonymizer(**{**SMALL, **kwargs})


def test_tokenizer_and_head_round_trip_exactly():
    """Identity init: head = pseudo-inverse of the embedding, so tubelet pixels come back
    (float64, nothing dropped), through the whole f_A too (blocks start as the identity)."""
    m = small(keep_ratio=1.0).double().eval()
    m.init_head_as_inverse()  # again in float64 (it was stored in float32)
    x = torch.rand(2, 3, 4, 16, 16, dtype=torch.float64)
    tokens, grid = m.tokenize(x)
    assert grid == (2, 4, 4) and tokens.shape == (2, 32, 96)
    torch.testing.assert_close(m.untokenize(m.head(tokens), grid), x, rtol=0, atol=1e-10)
    torch.testing.assert_close(m(x), x, rtol=0, atol=1e-10)
    # a head that does not invert the embedding (random) does not round-trip: the check bites
    torch.nn.init.normal_(m.head.weight)
    assert (m.untokenize(m.head(tokens), grid) - x).abs().max() > 0.1


def test_untokenize_places_each_tubelet_where_the_embedding_took_it():
    """Independent reference: token l's pixels are the Conv3d's receptive field."""
    m = small(keep_ratio=1.0).double()
    x = torch.rand(1, 3, 4, 16, 16, dtype=torch.float64)
    pixels = m.untokenize(torch.arange(32 * 96, dtype=torch.float64).reshape(1, 32, 96), (2, 4, 4))
    ref = np.zeros((1, 3, 4, 16, 16))
    for l_idx in range(32):
        t, h, w = np.unravel_index(l_idx, (2, 4, 4))
        ref[0, :, 2 * t:2 * t + 2, 4 * h:4 * h + 4, 4 * w:4 * w + 4] = (
            np.arange(96).reshape(3, 2, 4, 4) + 96 * l_idx)
    np.testing.assert_array_equal(pixels.numpy(), ref)
    # and the embedding of that tubelet is W times its pixels in the same order
    w = m.embed.weight.reshape(96, 96)
    tubelet = x[0, :, 2:4, 4:8, 8:12].reshape(-1)
    torch.testing.assert_close(m.embed(x)[0, :, 1, 1, 2], w @ tubelet + m.embed.bias)
    assert x.shape == pixels.shape


@pytest.mark.parametrize('keep_ratio', [0.25, 0.5, 0.75, 0.0])
def test_test_mode_keeps_exactly_keep_ratio_per_frame(keep_ratio):
    m = small(keep_ratio=0.5).eval()
    m.keep_ratio = keep_ratio  # set at test time, no retraining
    x = torch.rand(3, 3, 4, 16, 16)
    with torch.no_grad():
        out = m(x)
        # the top-k of the sparsifier's keep log-probability on the tokens entering block 1
        tokens, _ = m.tokenize(x)
        log_p = m.sparsifier(m.blocks[0](tokens), 2)[..., 0].reshape(3, 2, 16)
    policy = m.last_policy.reshape(3, 2, 16)
    k = int(keep_ratio * 16)
    assert (policy.sum(-1) == k).all()
    for n in range(3):
        for t in range(2):
            kept = set(torch.nonzero(policy[n, t]).flatten().tolist())
            assert kept == set(np.argsort(-log_p[n, t].numpy(), kind='stable')[:k].tolist())
    # dropped tubelets are zero-filled in the output
    dropped = (1 - m.last_policy).bool()  # (N, t, h, w)
    mask = dropped.repeat_interleave(2, 1).repeat_interleave(4, 2).repeat_interleave(4, 3)
    assert (out.permute(0, 2, 3, 4, 1)[mask] == 0).all()
    if k == 16 or k == 0:
        return
    assert (out.permute(0, 2, 3, 4, 1)[~mask] != 0).any()


def reference_policy_softmax(scores: np.ndarray, policy: np.ndarray) -> np.ndarray:
    """float64, straight from A_ij = M_ij e^{s_ij} / sum_k M_ik e^{s_ik} with
    M_ij = 1 if (p_i = p_j = 1) or i = j, else 0."""
    b, h, n, _ = scores.shape
    out = np.zeros_like(scores)
    for bi in range(b):
        for hi in range(h):
            for i in range(n):
                allowed = [j for j in range(n) if j == i or (policy[bi, i] and policy[bi, j])]
                e = np.exp(scores[bi, hi, i, allowed])
                out[bi, hi, i, allowed] = e / e.sum()
    return out


def test_masked_softmax_matches_float64_reference():
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(2, 3, 7, 7, generator=g, dtype=torch.float64) * 3
    policy = torch.tensor([[1, 0, 1, 1, 0, 0, 1], [0, 1, 1, 0, 1, 1, 1]], dtype=torch.float64)
    ref = reference_policy_softmax(scores.numpy(), policy.numpy())
    np.testing.assert_allclose(policy_softmax(scores, policy).numpy(), ref, rtol=1e-12,
                               atol=1e-15)
    # inside the attention module, on real q.k scores
    attn = PolicyAttention(12, 3).double()
    attn.keep_attention = True
    x = torch.randn(2, 7, 12, generator=g, dtype=torch.float64)
    attn(x, policy)
    q, k, _ = attn.qkv(x).reshape(2, 7, 3, 3, 4).permute(2, 0, 3, 1, 4)
    ref = reference_policy_softmax((q @ k.transpose(-2, -1) / 2).detach().numpy(), policy.numpy())
    np.testing.assert_allclose(attn.last_attention.detach().numpy(), ref, rtol=1e-10,
                               atol=1e-15)


def test_dropped_token_neither_sends_nor_receives_attention():
    """Gradients of a block under a hard policy: a kept output does not depend on a dropped
    input, a dropped output depends on no other input; without the policy both do."""
    torch.manual_seed(0)
    blk = PolicyBlock(12, 3, mlp_ratio=2.).double()
    for p in blk.parameters():  # no zero-init residuals here: a generic block
        torch.nn.init.normal_(p, std=0.3)
    policy = torch.tensor([[1., 0., 1., 1., 0.]], dtype=torch.float64)
    x = torch.randn(1, 5, 12, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda z: blk(z, policy), x)  # (1,5,12,1,5,12)
    dep = jac.abs().sum(dim=(0, 2, 3, 5))  # dep[i, j]: output i on input j
    kept, dropped = [0, 2, 3], [1, 4]
    assert (dep[kept][:, dropped] == 0).all()  # nothing sent by a dropped token
    for j in dropped:  # a dropped token receives nothing: only its own input matters
        assert (dep[j, [i for i in range(5) if i != j]] == 0).all()
        assert dep[j, j] > 0
    assert (dep[kept][:, kept] > 0).all()
    full = torch.autograd.functional.jacobian(lambda z: blk(z), x).abs().sum(dim=(0, 2, 3, 5))
    assert (full > 0).all()


def test_test_mode_gather_equals_masked_attention():
    """Eval drops tokens by gathering; the result equals masking them (they neither send
    nor receive), which the training path does."""
    m = small(keep_ratio=0.5).double().eval()
    for p in m.blocks.parameters():  # leave the identity init: blocks that mix tokens
        torch.nn.init.normal_(p, std=0.1)
    x = torch.rand(2, 3, 4, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        out = m(x)
        policy = m.last_policy.reshape(2, -1)
        tokens, grid = m.tokenize(x)
        z = m.blocks[0](tokens)
        z = m.blocks[1](z, policy)
        pix = m.head(z) * policy[..., None]
        ref = m.untokenize(pix, grid).clamp(0, 1)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)


def test_training_gumbel_policy_and_keep_loss():
    m = small(keep_ratio=0.5, keep_loss_weight=2.0).train()
    x = torch.rand(4, 3, 4, 16, 16)
    out = m(x)
    assert out.shape == x.shape
    policy = m.last_policy.reshape(4, -1)
    assert set(policy.unique().tolist()) <= {0.0, 1.0}
    losses = m.pop_auxiliary_losses()
    ref = 2.0 * ((policy.double().mean(1) - 0.5)**2).mean()
    assert float(losses['loss_keep']) == pytest.approx(float(ref), rel=1e-6)
    assert m.pop_auxiliary_losses() == {}  # handed over once
    # the straight-through decisions let the loss reach the predictor
    (losses['loss_keep'] + out.mean()).backward()
    grads = [p.grad for p in m.sparsifier.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    m.eval()
    m(x)
    assert m.pop_auxiliary_losses() == {}  # no loss at test time


def test_training_over_a_range_keeps_exactly_the_drawn_ratio_per_frame():
    m = small(keep_ratio=1.0, train_keep_ratios=(0.25, 0.75)).train()
    x = torch.rand(2, 3, 4, 16, 16)
    torch.manual_seed(3)
    counts = set()
    for _ in range(20):
        out = m(x)
        r = m.last_train_ratio
        assert 0.25 <= r <= 0.75
        per_frame = m.last_policy.reshape(2, 2, 16).sum(-1)
        assert (per_frame == int(r * 16)).all()  # exact, in every frame of every clip
        counts.add(int(r * 16))
        assert m.pop_auxiliary_losses() == {}  # the ratio is exact: no loss_keep
    assert len(counts) >= 3  # the ratio varies between passes
    # the straight-through mask lets the action loss reach the predictor
    out.mean().backward()
    grads = [p.grad for p in m.sparsifier.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    m.eval()  # test time: keep_ratio (1.0 here) rules, nothing is dropped
    with torch.no_grad():  # (no step was taken: the weights are those of a fresh f_A)
        torch.testing.assert_close(m(x), small(keep_ratio=1.0).eval()(x), rtol=0, atol=0)
    assert m.last_policy is None
    with pytest.raises(ValueError, match='train_keep_ratios'):
        small(train_keep_ratios=(0.8, 0.3))
    with pytest.raises(ValueError, match='train_keep_ratios'):
        small(train_keep_ratios=(0.2, 1.5))


def test_gumbel_top_k_samples_by_the_keep_probabilities():
    """Gumbel-max: with k = 1 token of S kept, token i is kept with probability
    P_i / sum_j P_j (P = P(keep)); checked against that formula in float64."""
    sp = TubeletSparsifier(12)
    p_keep = torch.tensor([0.9, 0.5, 0.2, 0.05], dtype=torch.float64)
    log_probs = torch.stack([p_keep.log(), (1 - p_keep).log()], -1).float()
    n = 40000
    torch.manual_seed(0)
    policy = sp.decide_ranked(log_probs.expand(n, 4, 2).contiguous(), 1, 0.25)
    assert (policy.detach().sum(1) == 1).all()
    freq = policy.detach().double().mean(0)
    torch.testing.assert_close(freq, p_keep / p_keep.sum(), rtol=0, atol=0.01)


def _fidelity_reference(out, x, policy, grid, tubelet):
    """Float64, from the equation: sum over kept tubelets' pixels (inside the clip) of
    |A - X|, over C times the number of kept pixels; a loop over tubelets."""
    out, x, policy = out.double().numpy(), x.double().numpy(), policy.double().numpy()
    (t, h, w), (kt, kh, kw) = grid, tubelet
    total, count = 0.0, 0
    for n in range(x.shape[0]):
        for ti in range(t):
            for hi in range(h):
                for wi in range(w):
                    if policy[n, ti, hi, wi] == 0:
                        continue
                    sl = (n, slice(None), slice(ti * kt, ti * kt + kt),
                          slice(hi * kh, hi * kh + kh), slice(wi * kw, wi * kw + kw))
                    diff = np.abs(out[sl] - x[sl])
                    total += diff.sum()
                    count += diff.size // x.shape[1]
    return total / (x.shape[1] * count)


@pytest.mark.parametrize('keep_ratio', [0.5, 1.0])
def test_kept_fidelity_matches_float64_reference(keep_ratio):
    """loss_fidelity = lambda * mean |A - X| over kept tubelets' pixels; clips whose T, H,
    W are not multiples of the tubelet (padding cropped back)."""
    m = small(keep_ratio=keep_ratio, fidelity_weight=3.0, output_act='none').train()
    torch.nn.init.normal_(m.head.weight, std=0.05)  # not the identity: A != X
    x = torch.rand(3, 3, 3, 14, 15)
    out = m(x)
    losses = m.pop_auxiliary_losses()
    policy = (m.last_policy if m.last_policy is not None
              else torch.ones(3, 2, 4, 4))
    if keep_ratio < 1:
        assert 0 < policy.sum() < policy.numel()  # some tubelets dropped
    ref = 3.0 * _fidelity_reference(out.detach(), x, policy, (2, 4, 4), (2, 4, 4))
    assert float(losses['loss_fidelity']) == pytest.approx(ref, rel=1e-5)
    assert ref > 0.01
    losses['loss_fidelity'].backward()
    assert m.head.weight.grad.abs().sum() > 0


def test_kept_fidelity_pulls_back_saturated_pixels():
    """With the clamp output, the term is taken before the clamp: pixels pushed far above 1
    still get a gradient back (after the clamp they would get none)."""
    m = small(keep_ratio=0.5, fidelity_weight=1.0).train()
    with torch.no_grad():
        m.head.bias.fill_(5.0)
    x = torch.rand(2, 3, 4, 16, 16)
    out = m(x)
    kept = m.last_policy.repeat_interleave(2, 1).repeat_interleave(4, 2).repeat_interleave(
        4, 3)[:, None].expand_as(x).bool()
    assert (out[kept] == 1).all()  # every kept pixel saturated
    m.pop_auxiliary_losses()['loss_fidelity'].backward()
    assert (m.head.bias.grad > 0).all()  # pushes the bias down
    with pytest.raises(ValueError, match='fidelity_weight'):
        small(fidelity_weight=-1.0)


def test_kept_fidelity_only_in_training_and_off_by_default():
    x = torch.rand(2, 3, 4, 16, 16)
    m = small(keep_ratio=0.5).train()
    m(x)
    assert set(m.pop_auxiliary_losses()) == {'loss_keep'}
    m = small(keep_ratio=0.5, fidelity_weight=1.0).train()
    m(x)
    assert set(m.pop_auxiliary_losses()) == {'loss_keep', 'loss_fidelity'}
    m.eval()
    m(x)
    assert m.pop_auxiliary_losses() == {}


def test_keep_loss_reaches_the_recognizer_losses():
    """AnonymizerDataPreprocessor hands f_A's loss_keep on as anonymizer_losses in
    training (SPActRecognizer adds those to its losses), not at validation."""
    init_default_scope('spact_mm')
    pre = MODELS.build(dict(
        type='AnonymizerDataPreprocessor', anonymizer=dict(type='STPrivacyAnonymizer', **SMALL),
        preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW')))
    pre.train()
    data = dict(inputs=[torch.randint(0, 256, (1, 3, 4, 16, 16), dtype=torch.uint8)] * 2,
                data_samples=None)
    out = pre(dict(data), training=True)
    assert set(out['anonymizer_losses']) == {'loss_keep'}
    pre.eval()
    assert 'anonymizer_losses' not in pre(dict(data), training=False)


def test_clip_level_shapes_and_bad_input():
    m = small(keep_ratio=0.5).eval()
    assert m.clip_level
    for shape in [(1, 3, 1, 16, 16), (2, 3, 5, 18, 14)]:  # a still; sizes off the tubelet grid
        assert anonymize_clips(m, torch.rand(shape)).shape == shape
    with pytest.raises(ValueError, match='clip-level'):
        m(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match='keep_ratio'):
        m.keep_ratio = 1.5
    with pytest.raises(ValueError, match='divisible by 3'):
        TubeletSparsifier(10)


@pytest.mark.parametrize('path', PAPER_CFGS, ids=[p.name for p in PAPER_CFGS])
def test_paper_scale_configs_build(path):
    cfg = Config.fromfile(str(path))
    init_default_scope('spact_mm')
    model_cfg = cfg.model.copy()
    model_cfg['data_preprocessor']['checkpoint'] = None
    if 'stage3' in path.name:  # the whole minimax model once (f_T, f_B, f_A)
        f_a = MODELS.build(model_cfg).data_preprocessor.anonymizer
    else:  # tests/test_configs builds every config's model; here f_A is the point
        f_a = MODELS.build(model_cfg['data_preprocessor']['anonymizer'])
    assert isinstance(f_a, STPrivacyAnonymizer)
    assert f_a.embed_dims == 768 and len(f_a.blocks) == 12
    assert f_a.blocks[0].attn.num_heads == 12
    with torch.no_grad():
        tokens, grid = f_a.tokenize(torch.zeros(1, 3, 16, 112, 112))
    assert grid == (8, 7, 7) and tokens.shape[1] == 392
    assert f_a.keep_ratio == (1.0 if 'stage1' in path.name else 0.7)
    assert 80e6 < sum(p.numel() for p in f_a.parameters()) < 100e6  # ViT-B size


def test_demo_configs_chain_and_start_at_identity():
    assert len(PAPER_CFGS) == 3
    init_default_scope('spact_mm')
    cfgs = {p.name.split('_')[0]: Config.fromfile(str(p)) for p in DEMO_CFGS}
    assert set(cfgs) == {'stprivacy-stage1', 'stprivacy-stage2', 'stprivacy-stage2b-sparsify',
                         'stprivacy-stage3-ssl', 'stprivacy-stage3-ssl-from2b',
                         'stprivacy-stage3-ssl-tc', 'stprivacy-stage3-supervised',
                         'stprivacy-stage2b-sparsify-fid', 'stprivacy-stage3-ssl-fid'}
    s1, s2 = cfgs['stprivacy-stage1'], cfgs['stprivacy-stage2']
    assert s2.model.data_preprocessor.checkpoint == s2.stage1_work_dir + '/final.pth'
    assert s2.stage1_work_dir.endswith(Path(s1.filename).stem)
    assert s1.model.data_preprocessor.anonymizer.keep_ratio == 1.0
    for name in ('stprivacy-stage3-ssl', 'stprivacy-stage3-supervised', 'stprivacy-stage3-ssl-tc',
                 'stprivacy-stage2b-sparsify', 'stprivacy-stage2b-sparsify-fid'):
        assert cfgs[name].model.init_cfg.checkpoint == cfgs[name].stage2_work_dir + '/final.pth'
        assert cfgs[name].stage2_work_dir.endswith(Path(s2.filename).stem)
        assert cfgs[name].model.data_preprocessor.anonymizer.keep_ratio == 0.5
    # stage 3 from stage 2b starts from stage 2b's run; stage 2b plays no privacy game
    s2b, s3b = cfgs['stprivacy-stage2b-sparsify'], cfgs['stprivacy-stage3-ssl-from2b']
    assert s3b.model.init_cfg.checkpoint == s3b.stage2_work_dir + '/final.pth'
    assert s3b.stage2_work_dir.endswith(Path(s2b.filename).stem)
    assert s2b.optim_wrapper.ssl_weight == 0.0
    # the trust-region pair: stage 3 with it starts from stage 2b with it; both weigh it 10
    s2f, s3f = cfgs['stprivacy-stage2b-sparsify-fid'], cfgs['stprivacy-stage3-ssl-fid']
    assert s3f.stage2_work_dir.endswith(Path(s2f.filename).stem)
    assert s3f.model.init_cfg.checkpoint == s3f.stage2_work_dir + '/final.pth'
    assert s2f.optim_wrapper.ssl_weight == 0.0 < s3f.optim_wrapper.ssl_weight
    for c in (s2f, s3f):
        assert c.model.data_preprocessor.anonymizer.fidelity_weight == 10.0
        MODELS.build(c.model.data_preprocessor.anonymizer)
    assert 'fidelity_weight' not in cfgs['stprivacy-stage3-ssl'].model.data_preprocessor.anonymizer
    assert cfgs['stprivacy-stage3-ssl'].optim_wrapper.ssl_weight > 0
    f_a = MODELS.build(s1.model.data_preprocessor.anonymizer).eval()
    x = torch.rand(2, 3, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(f_a(x), x, rtol=0, atol=1e-4)  # float32 pseudo-inverse


def test_anonymize_video_keep_ratio_option(tmp_path, capsys):
    """``tools/anonymize_video.py --keep-ratio`` sets the ratio of a trained f_A at deploy
    time: 1.0 keeps the (identity) f_A's picture, 0.0 drops every tubelet (black)."""
    import cv2
    from conftest import load_tool

    from spact_mm.datasets.synthetic import write_video

    main = load_tool('anonymize_video.py').main
    stage2 = 'stprivacy-stage2_vit-tiny-r3d18-r18_150iter_synthetic-a.py'
    cfg = Config.fromfile(str(CONFIGS / stage2))
    cfg.model.data_preprocessor.checkpoint = None
    cfg_path = str(tmp_path / 'stprivacy.py')
    cfg.dump(cfg_path)
    rng = np.random.default_rng(0)
    video = tmp_path / 'in.mp4'
    write_video(str(video), rng.integers(60, 200, (8, 32, 32, 3), dtype=np.uint8), 8)

    def mean_level(ratio: str) -> float:
        out = tmp_path / f'out-{ratio}.mp4'
        assert main([str(video), '--out', str(out), '--config', cfg_path, '--no-progress',
                     '--device', 'cpu', '--keep-ratio', ratio]) == 0
        cap = cv2.VideoCapture(str(out))
        frames = []
        ok, frame = cap.read()
        while ok:
            frames.append(frame)
            ok, frame = cap.read()
        return float(np.mean(frames))

    assert mean_level('1.0') > 100 and mean_level('0.0') < 10
    unet = ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
    assert main([str(video), '--out', str(tmp_path / 'u.mp4'), '--config', str(unet),
                 '--no-progress', '--device', 'cpu', '--keep-ratio', '0.5']) == 1
    assert 'STPrivacyAnonymizer only' in capsys.readouterr().err


@pytest.fixture(scope='module')
def synthetic_data(tmp_path_factory):
    import contextlib
    import io

    import cv2  # noqa: F401  (before decord)

    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    data = str(tmp_path_factory.mktemp('stprivacy') / 'data')
    with contextlib.redirect_stdout(io.StringIO()):
        generate_synthetic_dataset(data, seed=0, videos_per_class=1, val_videos_per_class=1,
                                   num_frames=8, size=32)
    return data


def test_runner_minimax_steps_update_only_their_branches(tmp_path, synthetic_data):
    """The demo stage 3 through mmengine's Runner, two iterations: step 1 moves f_A only
    (sparsifier included, through loss_keep and the masked attention) and logs loss_keep;
    step 2 moves f_T and f_B and leaves f_A."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    cfg = Config.fromfile(str(next(p for p in DEMO_CFGS if 'stage3-ssl' in p.name)))
    ds = cfg.train_dataloader.dataset
    ds.ann_file = ds.ann_file.replace('data/synthetic', synthetic_data)
    ds.data_prefix = dict(video=synthetic_data)
    cfg.model.init_cfg = None  # no stage-2 checkpoint here
    cfg.model.data_preprocessor.anonymizer.update(num_layers=2, mlp_ratio=1.)  # faster
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.custom_hooks = []
    cfg.default_hooks.pop('anonymization_grid')
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 100
    runner = Runner.from_cfg(cfg)
    model = runner.model
    changed, loss_keep = [], []

    class Record(Hook):
        """Which parameters each iteration moved (after the Runner's weight init)."""

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.snap = {k: v.detach().clone() for k, v in model.named_parameters()}

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            changed.append({k for k, v in model.named_parameters()
                            if not torch.equal(self.snap[k], v)})
            loss_keep.append(outputs.get('loss_keep'))

    runner.register_hook(Record(), priority='VERY_LOW')
    runner.train()
    step1, step2 = changed
    f_a = {k for k, _ in model.named_parameters() if k.startswith('data_preprocessor.anonymizer.')}
    assert step1 <= f_a
    assert any('.sparsifier.' in k for k in step1) and any('.head.' in k for k in step1)
    assert not step2 & f_a
    assert any(k.startswith('backbone.') for k in step2)
    assert any(k.startswith('privacy_head.') for k in step2)
    assert loss_keep[0] is not None and torch.isfinite(loss_keep[0])
