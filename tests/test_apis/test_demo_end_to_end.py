"""All three stages through mmengine's Runner on tiny synthetic data, with save and resume."""
import json
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from spact_mm.apis.demo import DEMO_RECIPE, build_stage_cfg, run_demo
from spact_mm.datasets.synthetic import generate_synthetic_dataset

TINY_DATA = dict(videos_per_class=3, val_videos_per_class=1)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, **TINY_DATA)
    return root


def _tiny_audit_settings(mode):
    from spact_mm.evaluation import attackers as atk
    from spact_mm.evaluation.privacy_audit import AuditSettings

    fs = atk.FitSettings(4, 8, 1e-3, 2)
    return AuditSettings(frames_per_clip=2, frame=fs, mobilenet=fs, video=fs, action=fs,
                         inversion=fs, identity=fs, width=8)


@pytest.fixture(scope='module')
def demo_run(tiny_data, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('demo'))
    with pytest.MonkeyPatch.context() as mp:  # the quick audit, with 4-iteration attackers
        mp.setattr('spact_mm.evaluation.privacy_audit.audit_settings', _tiny_audit_settings)
        figures = run_demo(work, tiny_data, seed=0, iters=dict(stage1=3, stage2=3, stage3=4),
                           num_workers=0, data_kwargs=TINY_DATA)
    return work, figures


def test_demo_prints_a_privacy_verdict(demo_run):
    """Raw and f_A were audited by fresh attackers; figures.json and the summary carry it."""
    from spact_mm.apis.demo import format_figures

    work, figures = demo_run
    pa = figures['privacy_audit']
    for side in ('raw', 'anonymized'):
        assert set(pa[side]) == {'person', 'scene', 'action_top1'}
        assert all(0 <= v <= 100 for v in pa[side].values())
    with open(pa['audit_json']) as f:
        audit = json.load(f)
    assert audit['worst_case']['person']['cmap'] == pa['anonymized']['person']
    assert pa['drop_pct']['person'] == pytest.approx(
        100 * (pa['raw']['person'] - pa['anonymized']['person']) / pa['raw']['person'])
    text = format_figures(figures)
    assert 'privacy verdict' in text and pa['verdict'] in text


def test_three_stages_chain_and_report(demo_run):
    work, figures = demo_run
    for stage in ('stage1', 'stage2', 'stage3'):
        assert osp.isfile(osp.join(work, stage, 'final.pth'))
    assert figures['stage1']['iters'] == 3 and figures['stage3']['iters'] == 4
    for key in ('top1_raw', 'top1_anonymized'):
        assert 0.0 <= figures['stage3'][key] <= 1.0
    assert figures['stage2']['ssl_loss_val'] > 0 and figures['stage3']['ssl_loss_val'] > 0
    with open(osp.join(work, 'figures.json')) as f:
        assert json.load(f)['stage3'] == figures['stage3']
    assert osp.getsize(figures['grid_png']) > 1000


def test_stage_handover_weights(demo_run):
    """Stage 2 starts from stage 1's f_A and keeps it; stage 3 starts from stage 2's weights."""
    from spact_mm.utils import load_checkpoint_safely

    work, _ = demo_run
    s1, s2, s3 = (load_checkpoint_safely(osp.join(work, s, 'final.pth'))['state_dict']
                  for s in ('stage1', 'stage2', 'stage3'))
    key = next(k for k in s1 if k.startswith('data_preprocessor.anonymizer.')
               and k.endswith('weight'))
    torch.testing.assert_close(s1[key], s2[key])  # frozen in stage 2
    assert not torch.equal(s2[key], s3[key])  # updated by minimax step 1
    fb = next(k for k in s2 if k.startswith('privacy_head.backbone.') and k.endswith('weight'))
    assert not torch.equal(s2[fb], s3[fb])  # f_B updated in step 2


def test_resume_continues_minimax(demo_run, tiny_data, tmp_path):
    work, _ = demo_run
    cfg = build_stage_cfg('stage3', work, tiny_data, max_iters=4, num_workers=0,
                          recipe=DEMO_RECIPE)
    cfg.work_dir = str(tmp_path)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.train_cfg.val_interval = 100
    Runner.from_cfg(cfg).train()
    assert osp.isfile(osp.join(str(tmp_path), 'iter_4.pth'))

    cfg = build_stage_cfg('stage3', work, tiny_data, max_iters=6, num_workers=0,
                          recipe=DEMO_RECIPE)
    cfg.work_dir = str(tmp_path)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.train_cfg.val_interval = 100
    # As `tools/train.py --resume` does when the work dir holds a checkpoint.
    cfg.resume = True
    cfg.load_from = osp.join(str(tmp_path), 'iter_4.pth')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 6
    # The alternation position came back with the optimisers: 4 restored + 2 new.
    assert runner.optim_wrapper.minimax_iter == 6
    state = torch.load(osp.join(str(tmp_path), 'iter_6.pth'), weights_only=True)
    assert state['optimizer']['minimax']['minimax_iter'] == 6
    assert set(state['optimizer']) >= {'anonymizer', 'recognizer', 'privacy'}


def _identity(raw):
    return raw


def _motion_only(raw):
    from spact_mm.models.anonymizers import MotionOnlyAnonymizer

    return MotionOnlyAnonymizer()(raw)


@pytest.mark.parametrize('recipe,target', [('paper', _identity), ('anchored', _motion_only)])
def test_stage1_drives_the_error_to_its_target_down(tiny_data, tmp_path, recipe, target):
    """Stage 1 trains f_A towards its target: the input (paper recipe) or R(x), the
    motion-only output (anchored recipe, the demo's default)."""
    cfg = build_stage_cfg('stage1', str(tmp_path), tiny_data, max_iters=40, num_workers=0,
                          recipe=recipe)
    cfg.train_cfg.val_interval = 1000
    runner = Runner.from_cfg(cfg)
    before = runner.val()['recon/l1']
    runner.train()
    after = runner.val()['recon/l1']
    assert after < 0.6 * before
    # The output approaches the target: a fresh batch through the trained f_A.
    batch = next(iter(runner.val_dataloader))
    pre = runner.model.data_preprocessor
    with torch.no_grad():
        out = pre(batch, False)
        goal = target(pre.to_unit(out['raw_inputs'], 3).flatten(0, 1))
    diff = (pre.to_unit(out['inputs'], 3).flatten(0, 1) - goal).abs().mean()
    assert float(diff) == pytest.approx(after, rel=0.35)


def test_an_unknown_recipe_is_refused(tiny_data, tmp_path):
    with pytest.raises(ValueError, match='recipe'):
        build_stage_cfg('stage1', str(tmp_path), tiny_data, recipe='nope')


def test_the_demo_records_its_recipe(demo_run):
    from spact_mm.apis.demo import format_figures

    _, figures = demo_run
    assert figures['recipe'] == DEMO_RECIPE
    assert f'{DEMO_RECIPE} recipe' in format_figures(figures)
