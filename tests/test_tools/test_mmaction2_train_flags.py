"""mmaction2's own ``tools/train.py`` (from its ``.mim``) on our configs: --seed,
--auto-scale-lr, --resume and the AMP recipe, through its ``parse_args``/``merge_args``."""
import copy
import glob
import importlib.util
import os.path as osp
import sys
import uuid
from pathlib import Path

import mmaction
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from spact_mm.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
SPACT = ROOT / 'configs' / 'spact'
STAGE1 = SPACT / 'spact-stage1_unet-tiny_200iter_synthetic-a.py'
STAGE2 = SPACT / 'spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a.py'
STAGE3 = SPACT / 'spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
PAPER3 = SPACT / 'spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py'


@pytest.fixture(scope='module')
def mma_train():
    """mmaction2's tools/train.py as a module (it ships in the package's .mim)."""
    path = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')
    spec = importlib.util.spec_from_file_location('mmaction2_tools_train', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _merge(mma_train, monkeypatch, config, *argv) -> Config:
    monkeypatch.setattr(sys, 'argv', ['train.py', str(config), *argv])
    args = mma_train.parse_args()
    return mma_train.merge_args(Config.fromfile(args.config), args)


def _training_configs():
    """Every config that tools/train.py trains (protocol configs are run by eval_protocol)."""
    out = []
    for path in sorted(glob.glob(str(ROOT / 'configs' / '**' / '*.py'), recursive=True)):
        if '/_base_/' in path or '/protocols/' in path:
            continue
        out.append(path)
    return out


@pytest.mark.parametrize('config', _training_configs(), ids=osp.basename)
def test_every_training_config_takes_seed_and_auto_scale_lr(mma_train, monkeypatch, tmp_path,
                                                              config):
    cfg = _merge(mma_train, monkeypatch, config, '--seed', '7', '--deterministic',
                 '--auto-scale-lr', '--work-dir', str(tmp_path))
    assert cfg.randomness == dict(seed=7, diff_rank_seed=False, deterministic=True)
    assert cfg.auto_scale_lr.enable is True and cfg.auto_scale_lr.base_batch_size > 0


def _runner(cfg: Config, tmp_path) -> Runner:
    cfg.work_dir = str(tmp_path / uuid.uuid4().hex[:8])
    cfg.experiment_name = f'flags_{uuid.uuid4().hex[:8]}'  # fresh MessageHub
    return Runner.from_cfg(cfg)


def _lrs(optim_wrapper) -> dict:
    wrappers = getattr(optim_wrapper, 'optim_wrappers', None) or {'': optim_wrapper}
    return {name: [g['lr'] for g in w.optimizer.param_groups] for name, w in wrappers.items()}


@pytest.mark.parametrize('config', [STAGE1, STAGE2, STAGE3, PAPER3], ids=osp.basename)
def test_auto_scale_lr_scales_every_branch(mma_train, monkeypatch, tmp_path, config):
    """Twice the designed batch doubles every branch's lr; the designed batch keeps it."""
    for factor in (1, 2):
        cfg = _merge(mma_train, monkeypatch, config, '--auto-scale-lr')
        if not str(config).endswith('ddp-150iter_synthetic-a.py'):  # single-device configs
            assert cfg.train_dataloader.batch_size == cfg.auto_scale_lr.base_batch_size
        cfg.train_dataloader.batch_size *= factor
        cfg.model.pop('init_cfg', None)  # no stage-1/2 checkpoint needed for the lr
        cfg.model.data_preprocessor.pop('checkpoint', None)
        runner = _runner(cfg, tmp_path)
        wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        before = _lrs(wrapper)
        runner.scale_lr(wrapper, runner.auto_scale_lr)
        after = _lrs(wrapper)
        assert set(after) == set(before) and all(before.values())
        if 'stage3' in str(config):
            assert set(after) == {'anonymizer', 'recognizer', 'privacy'}
        for name in before:
            assert after[name] == pytest.approx([lr * factor for lr in before[name]]), name


def _stage2_checkpoint(path: Path) -> dict:
    """A 'stage-2 final.pth' for the demo stage-3 model: seeded random weights."""
    cfg = Config.fromfile(str(STAGE3))
    model = MODELS.build(copy.deepcopy(cfg.model.to_dict()) | dict(init_cfg=None))
    gen = torch.Generator().manual_seed(3)
    state = {k: (torch.randn(v.shape, generator=gen) if v.is_floating_point() else v)
             for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True)
    torch.save(dict(state_dict=state, meta=dict()), path)
    return state


@pytest.mark.parametrize('chained', [True, False])
def test_resume_on_a_fresh_work_dir_starts_stage3_from_stage2(mma_train, monkeypatch, tmp_path,
                                                             chained):
    """``--resume`` (mmaction2 clears ``load_from``) on an empty work dir: the model is
    stage 2's, through ``model.init_cfg``. Without the init_cfg (the old load_from
    chaining) it is not, which is the bug this guards against."""
    ckpt = tmp_path / 'stage2' / 'final.pth'
    state = _stage2_checkpoint(ckpt)
    cfg = _merge(mma_train, monkeypatch, STAGE3, '--resume', '--cfg-options',
                 f'model.init_cfg.checkpoint={ckpt}')
    assert cfg.resume is True and cfg.load_from is None
    if not chained:
        cfg.model.pop('init_cfg')
        cfg.load_from = None
    runner = _runner(cfg, tmp_path)
    runner._init_model_weights()  # what Runner.train() does, in this order
    runner.load_or_resume()
    got = runner.model.state_dict()
    same = [torch.equal(got[k], v) for k, v in state.items() if v.is_floating_point()]
    assert all(same) if chained else not any(same)


def test_amp_recipe_from_the_readme(mma_train, monkeypatch, tmp_path):
    """mmaction2's ``--amp`` only accepts a plain OptimWrapper; the README's --cfg-options
    recipe makes stage 1 a GuardedAmpOptimWrapper and every minimax branch an
    AmpOptimWrapper. (AmpOptimWrapper refuses to be built without a GPU; the check is
    patched away here, as in test_minimax_fast.)"""
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_module
    from mmengine.optim import AmpOptimWrapper

    from spact_mm.engine.optimizers.nonfinite_guard import GuardedAmpOptimWrapper

    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)
    readme = (ROOT / 'README.md').read_text()
    recipes = {}
    for line in readme.splitlines():
        if '--cfg-options optim_wrapper.' in line and 'AmpOptimWrapper' in line:
            name = 'stage1' if 'stage1' in line else 'minimax'
            recipes[name] = line.split('--cfg-options', 1)[1].split()
    assert set(recipes) == {'stage1', 'minimax'}

    cfg = _merge(mma_train, monkeypatch, STAGE1, '--cfg-options', *recipes['stage1'])
    wrapper = (runner := _runner(cfg, tmp_path)).build_optim_wrapper(runner.optim_wrapper)
    assert type(wrapper) is GuardedAmpOptimWrapper

    cfg = _merge(mma_train, monkeypatch, STAGE3, '--cfg-options', *recipes['minimax'])
    cfg.model.pop('init_cfg')
    wrapper = (runner := _runner(cfg, tmp_path)).build_optim_wrapper(runner.optim_wrapper)
    assert {n: type(w) for n, w in wrapper.optim_wrappers.items()} == dict(
        anonymizer=AmpOptimWrapper, recognizer=AmpOptimWrapper, privacy=AmpOptimWrapper)
