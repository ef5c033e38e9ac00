"""Tests of the training CLI: argument parsing, config merging, and a tiny real run."""
import importlib
import os
import os.path as osp
import runpy
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import load_tool
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.dataset import BaseDataset

from spact_mm.utils.compat import set_gt_label

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
train_api = importlib.import_module('spact_mm.apis.train')  # the module, not the function
train_cli = load_tool('train.py')
test_cli = load_tool('test.py')

# A config that only needs to load, not to train.
MERGE_CONFIG = """
model = dict(type='Recognizer3D')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
val_cfg = dict(type='ValLoop')
val_dataloader = dict(batch_size=1)
val_evaluator = dict(type='AccMetric')
auto_scale_lr = dict(enable=False, base_batch_size=8)
"""

MULTI_BRANCH_OPTIM = """
optim_wrapper = dict(
    constructor='MinimaxOptimWrapperConstructor',
    anonymizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1),
                    clip_grad=dict(max_norm=40)),
    privacy=dict(optimizer=dict(type='SGD', lr=0.1)))
"""


@pytest.fixture(autouse=True)
def _restore_local_rank(monkeypatch):
    """Parsing exports ``LOCAL_RANK``; undo that after each test."""
    monkeypatch.setenv('LOCAL_RANK', '0')


def _write(tmp_path, text: str, name: str = 'tiny_config.py') -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _cfg(tmp_path, *argv: str, text: str = MERGE_CONFIG):
    args = train_cli.parse_args([_write(tmp_path, text), *argv])
    return train_api.build_train_cfg(args)


def test_work_dir_default_cli_and_config(tmp_path):
    assert _cfg(tmp_path).work_dir == osp.join('./work_dirs', 'tiny_config')
    assert _cfg(tmp_path, '--work-dir', 'somewhere').work_dir == 'somewhere'
    in_file = _cfg(tmp_path, text=MERGE_CONFIG + "work_dir = 'from_file'\n")
    assert in_file.work_dir == 'from_file'
    assert _cfg(tmp_path, '--work-dir', 'cli', text=MERGE_CONFIG +
                "work_dir = 'from_file'\n").work_dir == 'cli'


def test_cfg_options_override(tmp_path):
    cfg = _cfg(tmp_path, '--cfg-options', 'optim_wrapper.optimizer.lr=0.5',
               'model.backbone.depth=18', 'train_cfg.max_iters=7')
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.model.backbone.depth == 18
    assert cfg.model.type == 'Recognizer3D'
    assert cfg.train_cfg.max_iters == 7


def test_amp_plain_optim_wrapper(tmp_path):
    assert _cfg(tmp_path).optim_wrapper.type == 'OptimWrapper'
    cfg = _cfg(tmp_path, '--amp')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    # a wrapper without `type` is an OptimWrapper too
    cfg = _cfg(tmp_path, '--amp', text="optim_wrapper = dict(optimizer=dict(type='SGD'))\n")
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'


def test_amp_multi_branch_optim_wrapper(tmp_path):
    cfg = _cfg(tmp_path, '--amp', text=MULTI_BRANCH_OPTIM)
    assert 'type' not in cfg.optim_wrapper  # the container is left alone
    assert cfg.optim_wrapper.constructor == 'MinimaxOptimWrapperConstructor'
    for branch in ('anonymizer', 'recognizer', 'privacy'):
        assert cfg.optim_wrapper[branch].type == 'AmpOptimWrapper', branch
        assert cfg.optim_wrapper[branch].loss_scale == 'dynamic'
    assert cfg.optim_wrapper.recognizer.clip_grad.max_norm == 40
    assert cfg.optim_wrapper.anonymizer.optimizer.type == 'Adam'
    # without --amp nothing changes
    plain = _cfg(tmp_path, text=MULTI_BRANCH_OPTIM)
    assert plain.optim_wrapper.anonymizer.type == 'OptimWrapper'
    assert 'type' not in plain.optim_wrapper.privacy


def test_amp_rejects_custom_wrapper(tmp_path):
    text = "optim_wrapper = dict(type='MyWrapper', optimizer=dict(type='SGD'))\n"
    with pytest.raises(AssertionError, match='MyWrapper'):
        _cfg(tmp_path, '--amp', text=text)


def test_resume_auto_and_path(tmp_path):
    cfg = _cfg(tmp_path)
    assert not cfg.get('resume', False)
    # Nothing to resume in the work dir yet: start as configured, keeping
    # load_from (the previous SPAct stage's weights).
    cfg = _cfg(tmp_path, '--resume', '--cfg-options', 'load_from=prev/final.pth')
    assert cfg.resume is False and cfg.load_from == 'prev/final.pth'
    # A checkpoint in the work dir: resume from exactly that file.
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'iter_8.pth').write_bytes(b'')
    (work / 'last_checkpoint').write_text(str(work / 'iter_8.pth'))
    cfg = _cfg(tmp_path, '--resume', '--work-dir', str(work), '--cfg-options',
               'load_from=prev/final.pth')
    assert cfg.resume is True and cfg.load_from == str(work / 'iter_8.pth')
    cfg = _cfg(tmp_path, '--resume', 'ckpt/iter_4.pth')
    assert cfg.resume is True and cfg.load_from == 'ckpt/iter_4.pth'
    # `--resume` right before the positional config must not eat it
    args = train_cli.parse_args(['--resume', '--', _write(tmp_path, MERGE_CONFIG)])
    assert args.resume == 'auto'


def test_seed_and_randomness(tmp_path):
    cfg = _cfg(tmp_path)
    assert cfg.randomness == dict(seed=None, diff_rank_seed=False, deterministic=False)
    cfg = _cfg(tmp_path, '--seed', '42', '--diff-rank-seed', '--deterministic')
    assert cfg.randomness == dict(seed=42, diff_rank_seed=True, deterministic=True)
    # the CLI overrides a config's own randomness for the flags given
    cfg = _cfg(tmp_path, '--seed', '7', text=MERGE_CONFIG + 'randomness = dict(seed=1)\n')
    assert cfg.randomness.seed == 7
    assert _cfg(tmp_path, text=MERGE_CONFIG + 'randomness = dict(seed=1)\n').randomness.seed == 1


def test_launcher_no_validate_auto_scale_lr(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    assert cfg.launcher == 'none'
    assert cfg.val_cfg.type == 'ValLoop' and cfg.auto_scale_lr.enable is False
    monkeypatch.delenv('LOCAL_RANK')
    cfg = _cfg(tmp_path, '--launcher', 'pytorch', '--no-validate', '--auto-scale-lr',
               '--local_rank', '3')
    assert cfg.launcher == 'pytorch'
    assert cfg.val_cfg is None and cfg.val_dataloader is None and cfg.val_evaluator is None
    assert cfg.auto_scale_lr.enable is True
    assert os.environ['LOCAL_RANK'] == '3'
    with pytest.raises(SystemExit):
        train_cli.parse_args([_write(tmp_path, MERGE_CONFIG), '--launcher', 'bogus'])
    with pytest.raises(KeyError, match='auto_scale_lr'):
        _cfg(tmp_path, '--auto-scale-lr', text="optim_wrapper = dict(type='OptimWrapper')\n")


# ---------------------------------------------------------------- a real run
@DATASETS.register_module(force=True)
class TinyClipDataset(BaseDataset):
    """Random uint8 clips of shape (1, 3, 4, 16, 16) with labels 0/1, no files, no pipeline."""

    def __init__(self, num_samples: int = 4, **kwargs) -> None:
        self.num_samples = num_samples
        super().__init__(**kwargs)

    def load_data_list(self) -> list:
        return [dict(label=i % 2) for i in range(self.num_samples)]

    def __getitem__(self, idx: int) -> dict:
        generator = torch.Generator().manual_seed(idx)
        clip = torch.randint(0, 256, (1, 3, 4, 16, 16), dtype=torch.uint8, generator=generator)
        sample = set_gt_label(ActionDataSample(), self.get_data_info(idx)['label'])
        return dict(inputs=clip, data_samples=sample)


TRAIN_CONFIG = """
default_scope = 'spact_mm'
custom_imports = dict(imports=['spact_mm'], allow_failed_imports=False)
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=18, base_channels=8, pretrained=None,
                  pretrained2d=False, conv1_kernel=(1, 7, 7), inflate=(0, 0, 0, 0)),
    cls_head=dict(type='I3DHead', num_classes=2, in_channels=64, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3,
                           format_shape='NCTHW'))
train_dataloader = dict(
    batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='TinyClipDataset'))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
val_cfg = dict(type='ValLoop')
val_dataloader = dict(batch_size=1, dataset=dict(type='TinyClipDataset'))
val_evaluator = dict(type='AccMetric')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False))
log_processor = dict(by_epoch=False)
env_cfg = dict(mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
"""


def test_train_two_iterations_end_to_end(tmp_path):
    work_dir = tmp_path / 'work'
    args = train_cli.parse_args(
        [_write(tmp_path, TRAIN_CONFIG), '--work-dir', str(work_dir), '--no-validate',
         '--seed', '0'])
    cfg = train_api.build_train_cfg(args)
    runner = train_api.train(cfg)

    assert runner.iter == 2
    assert (work_dir / 'iter_2.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')
    assert type(runner.model).__name__ == 'Recognizer3D'
    assert runner.val_loop is None  # --no-validate removed the val loop


def test_resume_auto_continues_training(tmp_path):
    config = _write(tmp_path, TRAIN_CONFIG)
    work_dir = str(tmp_path / 'work')
    train_api.train(train_api.build_train_cfg(
        train_cli.parse_args([config, '--work-dir', work_dir, '--no-validate'])))
    runner = train_api.train(train_api.build_train_cfg(train_cli.parse_args(
        [config, '--work-dir', work_dir, '--no-validate', '--resume',
         '--cfg-options', 'train_cfg.max_iters=3', 'default_hooks.checkpoint.interval=1'])))
    assert runner.iter == 3
    assert osp.isfile(osp.join(work_dir, 'iter_3.pth'))


def test_test_api_returns_metrics_and_dumps(tmp_path):
    test_api = importlib.import_module('spact_mm.apis.test')
    config = _write(tmp_path, TRAIN_CONFIG + textwrap.dedent("""
        test_dataloader = dict(batch_size=2, num_workers=0,
                               sampler=dict(type='DefaultSampler', shuffle=False),
                               dataset=dict(type='TinyClipDataset', test_mode=True))
        test_cfg = dict(type='TestLoop')
        test_evaluator = dict(type='AccMetric')
        """))
    work_dir = tmp_path / 'work'
    train_api.train(train_api.build_train_cfg(
        train_cli.parse_args([config, '--work-dir', str(work_dir), '--no-validate'])))

    dump = tmp_path / 'preds.pkl'
    args = test_cli.parse_args([config, str(work_dir / 'iter_2.pth'), '--work-dir',
                                     str(tmp_path / 'test'), '--dump', str(dump)])
    cfg = test_api.build_test_cfg(args)
    assert cfg.load_from == str(work_dir / 'iter_2.pth')
    assert [m['type'] for m in cfg.test_evaluator] == ['AccMetric', 'DumpResults']
    metrics = test_api.test(cfg)
    assert 0.0 <= metrics['acc/top1'] <= 1.0
    assert dump.is_file()


def test_tools_run_from_a_checkout_without_install(tmp_path):
    """``python tools/train.py`` finds ``spact_mm`` from any cwd, with no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), '--help'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '--auto-scale-lr' in result.stdout and '--launcher' in result.stdout


def test_tools_test_cli_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['tools/test.py', '--help'])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(osp.join(REPO_ROOT, 'tools', 'test.py'), run_name='__main__')
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert 'checkpoint' in out and '--show-dir' in out and '--dump' in out


def test_epoch_loop_over_infinite_sampler_is_refused_before_training(tmp_path):
    """The synthetic configs' InfiniteSampler would hang an EpochBasedTrainLoop."""
    text = MERGE_CONFIG + textwrap.dedent("""
        train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2)
        train_dataloader = dict(batch_size=1, sampler=dict(type='InfiniteSampler', shuffle=True),
                                dataset=dict(type='RobustVideoDataset', ann_file='', pipeline=[]))
        """)
    cfg = _cfg(tmp_path, text=text)
    with pytest.raises(ValueError, match='never ends an epoch.*DefaultSampler'):
        train_api.train(cfg)
    cfg.train_dataloader.sampler.type = 'DefaultSampler'
    train_api.check_sampler_fits_loop(cfg)  # finite sampler: accepted
    cfg.train_dataloader.sampler.type = 'mmengine.InfiniteSampler'
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=3)
    train_api.check_sampler_fits_loop(cfg)  # iteration-based: accepted
    cfg.train_cfg = dict(max_epochs=3)  # the loop type implied by max_epochs
    with pytest.raises(ValueError):
        train_api.check_sampler_fits_loop(cfg)
