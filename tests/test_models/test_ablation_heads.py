"""Privacy heads of the ablations (Tables 3, 5, 6): MoCo, RotNet, sub-clip
views with a 3D f_B, and the f_B ensemble."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import tiny_model_cfg

from spact_mm.models.heads import rotation_batch
from spact_mm.models.layers import GradientReversal
from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

R18 = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8)
NECK = dict(type='mmpretrain.NonLinearNeck', in_channels=64, hid_channels=32, out_channels=16,
            num_layers=2, with_avg_pool=True)
R3D = dict(type='ResNet3d', depth=18, pretrained=None, pretrained2d=False, base_channels=8,
           conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, inflate=(1, 1, 1, 1),
           norm_eval=False)
TAU = 0.2
MOMENTUM = 0.1


def moco_head(queue_len: int = 8) -> nn.Module:
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='MoCoPrivacyHead', backbone=R18, neck=NECK, queue_len=queue_len, feat_dim=16,
        momentum=MOMENTUM,
        head=dict(type='mmpretrain.ContrastiveHead',
                  loss=dict(type='mmpretrain.CrossEntropyLoss'), temperature=TAU)))


def query_params(head) -> dict:
    return {k: v.detach().clone() for k, v in
            nn.Sequential(head.backbone, head.neck).named_parameters()}


def key_params(head) -> dict:
    return {k: v.detach().clone() for k, v in head.encoder_k.module.named_parameters()}


def perturb_query(head, seed: int) -> None:
    """Stand-in for an optimiser step on f_B and g."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in nn.Sequential(head.backbone, head.neck).parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))


def assert_params_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def views(n: int = 4, size: int = 16, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 2, 3, size, size, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------- MoCo
def test_moco_loss_matches_infonce_reference():
    head = moco_head()
    head.train()
    head.loss(None, aux_inputs=views(seed=5))  # sync + one step: key encoder != query now
    perturb_query(head, seed=1)
    head.eval()
    aux = views()
    loss = head.loss(None, aux_inputs=aux)['loss_ssl']
    with torch.no_grad():
        q = head.neck(head.backbone(aux[:, 0]))[0].double()
        k = head.encoder_k.module(aux[:, 1])[0].double()
        q_other = head.neck(head.backbone(aux[:, 1]))[0].double()
    queue = head.queue.double()
    # InfoNCE, straight from MoCo's definition, with unit vectors.
    q, k = q / q.norm(dim=1, keepdim=True), k / k.norm(dim=1, keepdim=True)
    pos = torch.exp((q * k).sum(1) / TAU)
    neg = torch.exp(q @ queue / TAU).sum(1)
    ref = (-torch.log(pos / (pos + neg))).mean()
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)
    # The keys come from the key encoder, not from the (different) query encoder.
    q_other = q_other / q_other.norm(dim=1, keepdim=True)
    assert not torch.allclose(k, q_other, atol=1e-3)


def test_moco_first_use_copies_query_encoder_without_moving_the_queue():
    head = moco_head()
    assert not head.key_synced
    perturb_query(head, seed=2)  # as if a stage-2 checkpoint had been loaded into f_B, g
    before_queue = head.queue.clone()
    head.train()
    head.minimax_phase = 'anonymizer'
    head.loss(None, aux_inputs=views())
    assert head.key_synced
    assert_params_equal(key_params(head), query_params(head))
    assert torch.equal(head.queue, before_queue) and int(head.queue_ptr) == 0


def test_moco_eval_before_sync_uses_query_encoder_and_changes_nothing():
    head = moco_head()
    head.eval()
    keys_before = key_params(head)
    aux = views()
    loss = head.loss(None, aux_inputs=aux)['loss_ssl']
    assert not head.key_synced
    assert_params_equal(key_params(head), keys_before)
    with torch.no_grad():
        q = F.normalize(head.neck(head.backbone(aux[:, 0]))[0].double(), dim=1)
        k = F.normalize(head.neck(head.backbone(aux[:, 1]))[0].double(), dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ head.queue.double()], 1) / TAU
    torch.testing.assert_close(loss.double(), -logits.log_softmax(1)[:, 0].mean(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize('phase', ['anonymizer', 'adversary', None])
@pytest.mark.parametrize('training', [True, False])
def test_moco_key_encoder_and_queue_move_only_when_fb_trains(phase, training):
    head = moco_head()
    head.train()
    head.minimax_phase = 'anonymizer'
    head.loss(None, aux_inputs=views(seed=7))  # first-use sync
    perturb_query(head, seed=3)  # f_B moved since: query != key
    key0, query0 = key_params(head), query_params(head)
    queue0, ptr0 = head.queue.clone(), int(head.queue_ptr)
    head.train(training)
    head.minimax_phase = phase
    aux = views(n=3)
    head.loss(None, aux_inputs=aux)
    moves = training and phase != 'anonymizer'
    if not moves:  # step 1, or eval
        assert_params_equal(key_params(head), key0)
        assert torch.equal(head.queue, queue0) and int(head.queue_ptr) == ptr0
        return
    # key <- m * key + (1 - m) * query, with MoCo's m = 1 - momentum
    m = 1 - MOMENTUM
    expected = {k: m * key0[k].double() + (1 - m) * query0[k].double() for k in key0}
    after = key_params(head)
    for k in expected:
        torch.testing.assert_close(after[k].double(), expected[k], rtol=1e-6, atol=1e-7)
    # This batch's keys (from the moved key encoder) replaced the oldest queue entries.
    with torch.no_grad():
        k = F.normalize(head.encoder_k.module(aux[:, 1])[0], dim=1)
    assert int(head.queue_ptr) == ptr0 + 3
    torch.testing.assert_close(head.queue[:, ptr0:ptr0 + 3], k.t(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(head.queue[:, ptr0 + 3:], queue0[:, ptr0 + 3:], rtol=0, atol=0)
    torch.testing.assert_close(head.queue[:, :ptr0], queue0[:, :ptr0], rtol=0, atol=0)


def test_moco_queue_wraps_around():
    head = moco_head(queue_len=6)
    keys = F.normalize(torch.randn(4, 16), dim=1)
    head._dequeue_and_enqueue(keys)
    head._dequeue_and_enqueue(2 * keys)
    assert int(head.queue_ptr) == 2  # (4 + 4) % 6
    torch.testing.assert_close(head.queue[:, [4, 5, 0, 1]], 2 * keys.t())
    torch.testing.assert_close(head.queue[:, [2, 3]], keys[2:].t())


def test_moco_loaded_key_encoder_is_not_overwritten():
    trained = moco_head()
    trained.train()
    trained.loss(None, aux_inputs=views(seed=8))
    perturb_query(trained, seed=4)
    trained.minimax_phase = 'adversary'
    trained.loss(None, aux_inputs=views(seed=9))
    perturb_query(trained, seed=5)
    state = copy.deepcopy(trained.state_dict())
    # A checkpoint with the key encoder (resume): first use keeps the loaded keys.
    head = moco_head()
    head.load_state_dict(state)
    head.train()
    head.minimax_phase = 'anonymizer'
    head.loss(None, aux_inputs=views())
    assert_params_equal(key_params(head), key_params(trained))
    assert not torch.equal(key_params(head)['0.conv1.weight'],
                           query_params(head)['0.conv1.weight'])
    # A stage-2 checkpoint (f_B and g only): the key encoder copies them.
    stage2 = {k: v for k, v in state.items() if k.startswith(('backbone.', 'neck.'))}
    head = moco_head()
    missing, _ = head.load_state_dict(stage2, strict=False)
    assert 'encoder_k.steps' in missing
    head.train()
    head.minimax_phase = 'anonymizer'
    head.loss(None, aux_inputs=views())
    assert_params_equal(key_params(head), query_params(trained))


def test_moco_gradient_reaches_input_through_the_query_only():
    head = moco_head()
    head.train()
    head.minimax_phase = 'anonymizer'
    aux = views().requires_grad_()
    head.loss(None, aux_inputs=aux)['loss_ssl'].backward()
    assert aux.grad[:, 0].abs().sum() > 0
    assert torch.count_nonzero(aux.grad[:, 1]) == 0


# ------------------------------------------------------------------- RotNet
def hand_rotate(x: torch.Tensor, k: int) -> torch.Tensor:
    """``k`` quarter turns counter-clockwise of the (H, W) dims, by index formulas."""
    n = x.shape[-1]
    i = torch.arange(n)[:, None].expand(n, n)
    j = torch.arange(n)[None, :].expand(n, n)
    src = {0: (i, j), 1: (j, n - 1 - i), 2: (n - 1 - i, n - 1 - j), 3: (n - 1 - j, i)}[k]
    return x[..., src[0], src[1]]


def test_rotation_batch_is_the_four_rotations():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5)
    rotated, labels = rotation_batch(x)
    assert rotated.shape == (8, 3, 5, 5)
    assert labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    for k in range(4):
        assert torch.equal(rotated[2 * k:2 * k + 2], hand_rotate(x, k))
    # 90 degrees counter-clockwise moves the top-right corner to the top-left.
    assert rotated[2, 0, 0, 0] == x[0, 0, 0, 4]


def rotnet_head() -> nn.Module:
    torch.manual_seed(0)
    return MODELS.build(dict(type='RotNetPrivacyHead', backbone=R18, in_channels=64))


def test_rotnet_loss_matches_cross_entropy_reference():
    head = rotnet_head().eval()
    aux = views(n=3)
    loss = head.loss(None, aux_inputs=aux)['loss_ssl']
    frames = aux[:, 0]
    rotated = torch.cat([hand_rotate(frames, k) for k in range(4)])
    labels = torch.arange(4).repeat_interleave(3)
    with torch.no_grad():
        logits = head.fc(head.backbone(rotated)[-1].mean(dim=(2, 3))).double()
    ref = (torch.logsumexp(logits, 1) - logits[torch.arange(12), labels]).mean()
    torch.testing.assert_close(loss.double(), ref, rtol=1e-5, atol=1e-6)


def test_rotnet_uses_a_frame_of_each_clip_and_rejects_non_square_frames():
    head = rotnet_head().train()
    clips = torch.randn(2, 1, 3, 8, 16, 16, requires_grad=True)
    loss = head.loss(clips)['loss_ssl']
    loss.backward()
    touched = (clips.grad.abs().sum(dim=(0, 1, 2, 4, 5)) > 0).sum()
    assert touched in (1, 2)  # the first frame of each clip's S_F pair
    with pytest.raises(ValueError, match='square'):
        head.loss(torch.randn(2, 1, 3, 8, 16, 12))


# --------------------------------------------------------------- clip views
def clip_head() -> nn.Module:
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='SSLPrivacyHead', backbone=R3D, views='clips', clip_len=4,
        neck=dict(NECK, with_avg_pool=False), loss=dict(type='NTXentLoss', temperature=0.1)))


def test_clip_views_are_distinct_windows_of_the_same_clip():
    head = clip_head()
    n, t, clip_len = 5, 8, 4
    # every frame carries clip id * 100 + t
    ids = (100 * torch.arange(n)[:, None] + torch.arange(t)[None]).float()
    clips = ids.view(n, 1, 1, t, 1, 1).expand(n, 1, 3, t, 6, 6)
    torch.manual_seed(0)
    for _ in range(20):
        v1, v2 = head.clip_pairs(clips)
        assert v1.shape == v2.shape == (n, 3, clip_len, 6, 6)
        for v in (v1, v2):
            vals = v[:, 0, :, 0, 0]
            assert torch.equal(vals // 100, torch.arange(n)[:, None].float().expand(n, clip_len))
            assert torch.equal(vals[:, 1:] - vals[:, :-1], torch.ones(n, clip_len - 1))
            assert (vals[:, 0] % 100 <= t - clip_len).all()
        assert (v1[:, 0, 0, 0, 0] != v2[:, 0, 0, 0, 0]).all()
    with pytest.raises(ValueError, match='sub-clips'):
        head.clip_pairs(clips[:, :, :, :4])
    with pytest.raises(ValueError, match="views='frames'"):
        head.loss(None, aux_inputs=torch.randn(2, 2, 3, 6, 6))


def test_clip_views_gradient_is_reversed_and_scaled():
    head = clip_head().eval()  # BN running statistics: the same forward each time
    clips = torch.randn(4, 1, 3, 8, 16, 16, requires_grad=True)
    z = head.project(torch.randn(3, 3, 4, 16, 16))
    assert z.shape == (3, 16)
    w = 0.3
    head.grad_reverse.weight = w
    torch.manual_seed(1)
    head.loss(clips)['loss_ssl'].backward()
    g_reversed = clips.grad.clone()
    clips.grad = None
    head.grad_reverse = nn.Identity()  # plain gradient of L_B
    torch.manual_seed(1)  # the same sub-clips
    head.loss(clips)['loss_ssl'].backward()
    assert clips.grad.abs().sum() > 0
    torch.testing.assert_close(g_reversed, -w * clips.grad)


# ----------------------------------------------------------------- ensemble
MEMBERS = [
    dict(type='SSLPrivacyHead', backbone=R18, neck=NECK,
         loss=dict(type='NTXentLoss', temperature=0.1)),
    dict(type='MoCoPrivacyHead', backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=0.25),
         neck=dict(NECK, in_channels=1280), queue_len=8, feat_dim=16),
]


def test_ensemble_loss_is_the_mean_of_its_members():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='EnsemblePrivacyHead', heads=MEMBERS, names=['r18', 'mv2']))
    head.eval()
    aux = views()
    out = head.loss(None, aux_inputs=aux)
    member = [float(h.loss(None, aux_inputs=aux)['loss_ssl']) for h in head.heads]
    torch.testing.assert_close(out['loss_ssl'].double(),
                               torch.tensor(sum(member) / 2, dtype=torch.float64))
    assert set(out) == {'loss_ssl', 'ssl_r18', 'ssl_mv2'}
    for name, value in zip(('ssl_r18', 'ssl_mv2'), member):
        assert not out[name].requires_grad
        assert float(out[name]) == pytest.approx(value, rel=1e-6)
    assert member[0] != pytest.approx(member[1])
    with pytest.raises(ValueError, match='loss'):
        MODELS.build(dict(type='EnsemblePrivacyHead', heads=MEMBERS, names=['loss_a', 'b']))


def test_minimax_wrapper_reaches_every_member():
    model_cfg = tiny_model_cfg()
    model_cfg['privacy_head'] = dict(type='EnsemblePrivacyHead', heads=MEMBERS)
    model = MODELS.build(model_cfg)
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='MinimaxOptimWrapperConstructor',
        optim_wrapper_cfg=dict(
            type='MinimaxOptimWrapper', ssl_weight=0.3,
            **{b: dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
               for b in ('anonymizer', 'recognizer', 'privacy')})))(model)
    layers = [m for m in model.modules() if isinstance(m, GradientReversal)]
    assert len(layers) == 2 and all(m.weight == 1.0 for m in layers)
    with optim.optim_context(model):
        assert all(m.weight == 0.3 for m in layers)
        assert model.privacy_head.heads[1].minimax_phase == 'anonymizer'
    optim.minimax_iter = 1
    with optim.optim_context(model):
        assert model.privacy_head.heads[1].minimax_phase == 'adversary'
