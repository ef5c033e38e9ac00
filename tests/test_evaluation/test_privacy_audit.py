"""The privacy audit: attackers learn on raw data, fail on blackened data, and the sums are right.

The audit's attackers are exercised on small hand-made clips whose attributes
are coloured blocks: person attributes inside a fixed "person box", scene
attributes outside it, the action a moving dot, the identity a pattern of
colours inside the box. Ground-truth-box blackening then removes every person
attribute (and the identity) and keeps the scene.
"""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from spact_mm.evaluation import attackers as atk
from spact_mm.evaluation import privacy_audit as pa

SIZE, T = 16, 4
BOX = (slice(2, 10), slice(1, 8))  # rows, cols of the person box
#: (row, col) of each attribute's 3x3 block; the first two inside the box
BLOCKS = [(3, 2), (6, 4), (3, 11), (10, 11)]
COLOURS = [(1., 0., 0.), (0., 0., 1.), (0., 1., 0.), (1., 1., 0.)]


def make_split(n: int, seed: int, num_ids: int = 4) -> pa.Split:
    rng = np.random.default_rng(seed)
    attrs = (rng.random((n, 4)) < 0.5).astype(np.float32)
    ids = rng.integers(num_ids, size=n)
    labels = rng.integers(2, size=n)
    clips = np.full((n, 3, T, SIZE, SIZE), 0.5, np.float32)
    clips += rng.normal(0, 0.03, clips.shape).astype(np.float32)
    id_colours = np.random.default_rng(99).random((num_ids, 3))
    for i in range(n):
        clips[i, :, :, 8:10, 2:7] = id_colours[ids[i]][:, None, None, None]  # identity band
        for a, (r, c) in enumerate(BLOCKS):
            if attrs[i, a]:
                clips[i, :, :, r:r + 3, c:c + 3] = np.asarray(COLOURS[a])[:, None, None, None]
        for t in range(T):  # action: a white dot moving right (1) or left (0)
            col = 2 + 3 * t if labels[i] else 13 - 3 * t
            clips[i, :, t, 13:15, col:col + 2] = 1.
    clips = np.clip(clips, 0, 1)
    boxes = np.tile(np.array([BOX[1].start, BOX[0].start, BOX[1].stop, BOX[0].stop], float),
                    (n, T, 1))
    return pa.Split(torch.as_tensor((clips * 255).round().astype(np.uint8)), attrs, labels, ids,
                    boxes)


def make_data(n_train: int = 64, n_val: int = 32) -> dict:
    tr, val = make_split(n_train, 0), make_split(n_val, 1)
    return dict(privacy=dict(train=tr, val=val), action=dict(train=tr, val=val),
                attributes=['p0', 'p1', 's0', 's1'], groups=dict(person=[0, 1], scene=[2, 3]))


def tiny_settings() -> pa.AuditSettings:
    fs = atk.FitSettings(iters=60, batch_size=32, lr=3e-3, eval_every=20)
    return pa.AuditSettings(frames_per_clip=2, frame=fs, mobilenet=fs,
                            video=atk.FitSettings(40, 16, 3e-3, 20), action=fs,
                            inversion=atk.FitSettings(40, 32, 3e-3, 20), identity=fs, width=8)


class BlackenBox(nn.Module):
    """Ground-truth-box blackening of the hand-made clips (per frame)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        out[..., BOX[0], BOX[1]] = 0.
        return out


class Constant(nn.Module):
    """A constant f_A: every pixel 0.5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x, 0.5)


@pytest.fixture(scope='module')
def raw_and_blackened():
    data = make_data()
    raw = pa.run_audit_on_data(nn.Identity(), data, tiny_settings(), progress=False,
                               log=lambda s: None)
    black = pa.run_audit_on_data(BlackenBox(), data, tiny_settings(), progress=False,
                                 log=lambda s: None)
    return raw, black


def test_every_attacker_learns_raw_attributes(raw_and_blackened):
    raw, _ = raw_and_blackened
    assert set(pa.ATTRIBUTE_ATTACKERS) <= set(raw['attackers'])
    for name, r in raw['attackers'].items():
        for group in ('person', 'scene'):
            # chance is the prevalence, about 50 here
            assert r['cmap'][group] > raw['chance'][group] + 25, (name, group, r['cmap'])


def test_blackening_defeats_every_attacker_on_person_attributes(raw_and_blackened):
    raw, black = raw_and_blackened
    for name, r in black['attackers'].items():
        assert r['cmap']['person'] < black['chance']['person'] + 15, (name, r['cmap'])
        assert r['cmap']['scene'] > black['chance']['scene'] + 25, (name, r['cmap'])  # kept
    assert black['worst_case']['person']['cmap'] < raw['worst_case']['person']['cmap'] - 20


def test_reidentification_works_on_raw_and_fails_on_blackened(raw_and_blackened):
    raw, black = raw_and_blackened
    for feats in ('colour-hist', 'resnet18-identity'):
        for gallery in ('anonymized_gallery', 'raw_gallery'):
            chance = raw['reid'][feats][gallery]['chance_top1']
            assert raw['reid'][feats][gallery]['top1'] > chance + 40, (feats, gallery)
        assert black['reid'][feats]['anonymized_gallery']['top1'] < chance + 20, feats


def test_reid_uses_person_crops_when_boxes_are_known(raw_and_blackened):
    raw, _ = raw_and_blackened
    assert raw['reid_region'] == 'person box'


def test_reid_on_whole_frames_without_boxes():
    data = make_data(32, 16)
    tr, val = data['privacy']['train'], data['privacy']['val']
    clips_tr, clips_val = tr.clips.float() / 255., val.clips.float() / 255.
    fs = atk.FitSettings(40, 32, 3e-3, 20)
    settings = pa.AuditSettings(frames_per_clip=2, identity=fs, width=8)
    out = pa._reid(clips_tr, clips_val, clips_tr, tr.identity, val.identity, settings, 0,
                   atk.frame_backbones(8)['resnet18'], False, lambda s: None)
    hist = out['colour-hist']['anonymized_gallery']
    assert hist['top1'] > hist['chance_top1'] + 40


def test_person_crops_equal_slicing_for_pixel_aligned_boxes():
    rng = np.random.default_rng(3)
    clips = torch.as_tensor(rng.random((2, 3, 4, 24, 20)), dtype=torch.float32)
    boxes = np.tile(np.array([2., 3., 10., 19.]), (2, 4, 1))  # 8 wide, 16 high
    crops = pa.person_crops(clips, boxes, per_clip=2, size=(16, 8))
    idx = [0, 3]
    ref = clips[:, :, idx, 3:19, 2:10]
    torch.testing.assert_close(crops, ref, atol=1e-5, rtol=0)


def test_fresh_action_model_learns_the_motion(raw_and_blackened):
    raw, black = raw_and_blackened
    assert raw['action']['top1'] > 80 and black['action']['top1'] > 80


def test_inversion_psnr_identity_high_constant_low():
    data = make_data(32, 16)
    tr, val = data['privacy']['train'], data['privacy']['val']
    x_tr, _ = pa._frames(tr.clips.float() / 255., 2)
    x_val, _ = pa._frames(val.clips.float() / 255., 2)
    a, v = x_tr.numpy(), x_val.numpy()
    ident = atk.ridge_inversion(a[:48], a[:48], a[48:], a[48:])
    assert atk.psnr(ident(v), v) > 40
    assert atk.ssim(ident(v), v) > 0.99
    const = np.full_like(a, 0.5)
    inv = atk.ridge_inversion(const[:48], a[:48], const[48:], a[48:])
    # nothing to learn from a constant: no better than the training mean image
    mean_img = np.broadcast_to(a[:48].mean(0, keepdims=True), v.shape)
    assert atk.psnr(inv(np.full_like(v, 0.5)), v) <= atk.psnr(mean_img, v) + 0.5
    settings = atk.FitSettings(60, 32, 3e-3, 20)
    net = atk.conv_inversion(x_tr[:48], x_tr[:48], (x_tr[48:], x_tr[48:]), settings, 0, 8,
                             progress=False)
    assert atk.psnr(atk.predict(net, x_val).numpy(), v) > 30
    net = atk.conv_inversion(torch.full_like(x_tr[:48], 0.5), x_tr[:48],
                             (torch.full_like(x_tr[48:], 0.5), x_tr[48:]), settings, 0, 8,
                             progress=False)
    rec = atk.predict(net, torch.full_like(x_val, 0.5)).numpy()
    assert atk.psnr(rec, v) <= atk.psnr(mean_img, v) + 0.5


def test_worst_case_is_the_per_attribute_maximum():
    rng = np.random.default_rng(0)
    scores = {f'a{i}': rng.random(5) for i in range(3)}
    scores['a1'][2] = np.nan  # an undefined AP is skipped, not propagated
    groups = dict(g=[0, 1, 2], h=[3, 4])
    out = atk.worst_case(scores, groups)
    for group, idx in groups.items():
        expected = []
        for a in idx:
            vals = [scores[k][a] for k in scores if not math.isnan(scores[k][a])]
            expected.append(max(vals))
        assert out[group]['cmap'] == pytest.approx(100 * sum(expected) / len(expected))
        for j, a in enumerate(idx):
            winner = out[group]['argmax'][j]
            assert scores[winner][a] == pytest.approx(expected[j])


def test_colour_histogram_matches_numpy_histogramdd():
    rng = np.random.default_rng(1)
    frames = torch.as_tensor(rng.random((3, 3, 8, 8)))
    hist = atk.colour_histogram(frames, bins=4)
    for i in range(3):
        pix = frames[i].numpy().reshape(3, -1).T.astype(np.float64)
        ref, _ = np.histogramdd(pix, bins=[np.linspace(0, 1, 5)] * 3)
        np.testing.assert_allclose(hist[i], ref.ravel() / pix.shape[0])


def test_reid_scores_against_brute_force():
    rng = np.random.default_rng(2)
    gallery = rng.normal(size=(12, 5))
    gids = np.repeat(np.arange(4), 3)
    query = gallery[[0, 4, 8]] + rng.normal(0, 0.01, (3, 5))
    qids = gids[[0, 4, 8]]
    out = atk.reid_scores(query, qids, gallery, gids)
    both = np.concatenate([query, gallery])
    both = both - both.mean(0)
    both /= np.linalg.norm(both, axis=1, keepdims=True)
    sim = both[:3] @ both[3:].T
    top1, aps = [], []
    for i in range(3):
        order = np.argsort(-sim[i])
        rel = (gids[order] == qids[i]).astype(float)
        top1.append(rel[0])
        hits = np.cumsum(rel)
        aps.append(sum(hits[k] / (k + 1) for k in range(len(rel)) if rel[k]) / rel.sum())
    assert out['top1'] == pytest.approx(100 * np.mean(top1))
    assert out['map'] == pytest.approx(100 * np.mean(aps))
    assert out['chance_top1'] == pytest.approx(25.)


def test_verdict_and_drops_from_a_raw_audit():
    raw = dict(protocol='p', worst_case=dict(person=dict(cmap=90.), scene=dict(cmap=80.)),
               attackers={}, action=dict(top1=70.))
    audit = dict(protocol='p', worst_case=dict(person=dict(cmap=60.), scene=dict(cmap=80.)),
                 attackers={}, action=dict(top1=63.))
    pa.attach_raw(audit, raw)
    assert audit['drop_pct']['person'] == pytest.approx(100 * 30 / 90)
    assert audit['drop_pct']['scene'] == pytest.approx(0.)
    assert audit['drop_pct']['action_top1'] == pytest.approx(10.)
    assert '33%' in pa.verdict(audit)
    # a large action drop is not privacy removal
    small = dict(protocol='p', worst_case=dict(person=dict(cmap=88.), scene=dict(cmap=78.)),
                 attackers={}, action=dict(top1=35.))
    pa.attach_raw(small, raw)
    assert pa.verdict(small).startswith('f_A removed little')
    with pytest.raises(ValueError, match='protocol'):
        pa.attach_raw(dict(audit, protocol='q'), raw)


def test_quick_audit_end_to_end_writes_audit_json(tmp_path):
    """The CLI path on a tiny synthetic dataset: audit.json, .md and .png are written."""
    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    root = tmp_path / 'syn'
    generate_synthetic_dataset(str(root), videos_per_class=3, val_videos_per_class=2,
                               num_frames=8, size=32)
    config = 'configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py'
    fs = atk.FitSettings(4, 8, 1e-3, 2)
    settings = pa.AuditSettings(frames_per_clip=2, frame=fs, mobilenet=fs, video=fs, action=fs,
                                inversion=fs, identity=fs, width=8)
    raw = pa.run_audit(config, 'raw', str(tmp_path / 'raw'), data_root=str(root),
                       progress=False, settings=settings, log=lambda s: None)
    out = pa.run_audit(config, 'downsample-4x', str(tmp_path / 'ds'), data_root=str(root),
                       raw_audit=str(tmp_path / 'raw' / 'audit.json'), progress=False,
                       settings=settings, log=lambda s: None)
    with open(tmp_path / 'ds' / 'audit.json') as f:
        saved = json.load(f)
    assert saved['method'] == 'downsample-4x' and saved['protocol'] == raw['protocol']
    assert set(saved['worst_case']) == {'person', 'scene'}
    assert set(saved['drop_pct']) >= {'person', 'scene'}
    assert saved['num_samples']['privacy_train'] == 12
    assert saved['inversion']['ridge']['psnr'] > 0 and 'top1' in saved['action']
    assert saved['verdict'] == out['verdict'] and saved['verdict']
    assert (tmp_path / 'ds' / 'audit.png').stat().st_size > 1000
    assert '| **worst case**' in (tmp_path / 'ds' / 'audit.md').read_text()


def _fake_audit(method, seed, person, scene, top1, protocol='same-dataset'):
    return dict(method=method, protocol=protocol, seed=seed, dataset='synthetic',
                worst_case=dict(person=dict(cmap=person), scene=dict(cmap=scene)),
                attackers=dict(resnet18=dict(cmap=dict(person=person - 1, scene=scene - 1))),
                action=dict(top1=top1), inversion=dict(conv=dict(psnr=20., ssim=.5)),
                drop_pct=dict(person=(90. - person) / 90. * 100, scene=(80. - scene) / 80. * 100))


def test_audit_tables_average_seeds_and_show_drops(tmp_path):
    from spact_mm.evaluation.reporting import (
        audit_as_results,
        format_attacker_table,
        format_audit_table,
        plot_tradeoff,
    )

    audits = [_fake_audit('raw', 0, 90., 80., 70.),
              _fake_audit('spact', 0, 60., 40., 68.), _fake_audit('spact', 1, 66., 48., 66.)]
    table = format_audit_table(audits)
    spact_row = next(line for line in table.splitlines() if line.startswith('| spact'))
    assert '63.0 ± 3.0' in spact_row and '44.0 ± 4.0' in spact_row and '67.0 ± 1.0' in spact_row
    assert f'↓{(90 - 63) / 90 * 100:.0f}%' in spact_row  # mean of the two seeds' drops
    attackers = format_attacker_table(audits, 'same-dataset')
    assert '62.0 / 43.0' in attackers  # resnet18, mean over seeds
    with pytest.raises(ValueError, match='novel'):
        format_attacker_table(audits, 'novel')
    out = plot_tradeoff([audit_as_results(a, 'person') for a in audits[:2]],
                        str(tmp_path / 'p.png'))
    assert (tmp_path / 'p.png').stat().st_size > 1000 and out.endswith('p.png')


def test_attacker_table_of_person_only_audits():
    """Face-benchmark audits have a person group only: the table shows it, no scene."""
    from spact_mm.evaluation.reporting import format_attacker_table

    audits = []
    for method, person in (('raw', 90.), ('face-mask', 50.)):
        a = _fake_audit(method, 0, person, 0., 70.)
        del a['worst_case']['scene'], a['attackers']['resnet18']['cmap']['scene']
        audits.append(a)
    table = format_attacker_table(audits, 'same-dataset')
    assert table.startswith('Person cMAP')
    mask_row = next(line for line in table.splitlines() if line.startswith('| face-mask'))
    assert mask_row == '| face-mask | 49.0 | 50.0 |'


def test_oracle_data_are_judged_against_the_raw_frames():
    """An oracle baseline obfuscates in the pipeline (f_A = identity): the inversion target
    and the non-adaptive attacker's training frames must be the raw frames, not the
    obfuscated ones (else inversion is trivially perfect, PSNR 100)."""
    data = make_data(48, 16)

    def blackened(split: pa.Split) -> pa.Split:
        clips = BlackenBox()(split.clips.float() / 255.)
        return pa.Split((clips * 255).round().to(torch.uint8), split.attrs, split.labels,
                        split.identity, split.boxes)

    obf = dict(data, privacy={k: blackened(v) for k, v in data['privacy'].items()})
    fs = atk.FitSettings(iters=4, batch_size=16, lr=3e-3, eval_every=4)  # figures unused
    settings = pa.AuditSettings(frames_per_clip=1, frame=fs, mobilenet=fs, video=fs, action=fs,
                                inversion=fs, identity=fs, width=4)
    out = pa.run_audit_on_data(nn.Identity(), obf, settings, progress=False,
                               log=lambda s: None, raw_data=data)
    assert out['inversion']['ridge']['psnr'] < 40  # the box cannot be recovered
    assert out['inversion']['conv']['psnr'] < 40
    with pytest.raises(ValueError, match='same samples'):
        short = dict(data, privacy=dict(train=make_split(8, 0), val=data['privacy']['val']))
        pa.run_audit_on_data(nn.Identity(), obf, settings, progress=False,
                             log=lambda s: None, raw_data=short)


def test_tables_order_protocols_as_the_paper():
    from spact_mm.evaluation.reporting import ordered_protocols

    assert ordered_protocols(['novel', 'zz-other', 'cross-dataset', 'same-dataset', 'novel']) == [
        'same-dataset', 'cross-dataset', 'novel', 'zz-other']


def test_trade_off_points_are_one_per_method_mean_over_seeds():
    from spact_mm.evaluation.reporting import audit_as_results, mean_over_seeds

    audits = [_fake_audit('raw', 0, 90., 80., 70.),
              _fake_audit('spact', 0, 60., 40., 68.), _fake_audit('spact', 1, 66., 48., 66.)]
    pts = {r['method']: r['metrics'] for r in mean_over_seeds(
        [audit_as_results(a, 'scene') for a in audits])}
    assert set(pts) == {'raw', 'spact (2 seeds)'}
    assert pts['spact (2 seeds)'] == pytest.approx(dict(privacy_cmap=44., action_top1=67.))
    assert pts['raw'] == pytest.approx(dict(privacy_cmap=80., action_top1=70.))
