"""Save and resume of the STPrivacy stage-3 minimax run (issue 13): a run interrupted at a
checkpoint and resumed repeats the uninterrupted run's trajectory, Gumbel draws included."""
import os.path as osp
import uuid

import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from reliability_helpers import BRANCHES, read_losses

from spact_mm.apis.demo import config_dir, retarget_data
from spact_mm.datasets.synthetic import generate_synthetic_dataset

CONFIG = 'stprivacy/stprivacy-stage3-ssl_vit-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
N = 4


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=3, val_videos_per_class=1)
    return root


def stprivacy_cfg(work_dir: str, data_root: str, max_iters: int, record: str) -> Config:
    """The demo STPrivacy stage 3 (random weights), batch 4, a checkpoint every 2 iterations."""
    cfg = Config.fromfile(str(config_dir() / CONFIG))
    retarget_data(cfg, data_root, 0)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'stprivacy_resume_{uuid.uuid4().hex[:8]}'
    cfg.load_from = None
    cfg.model.pop('init_cfg', None)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.train_dataloader.batch_size = 4
    cfg.val_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=2, by_epoch=False,
                                        max_keep_ckpts=2)
    cfg.custom_hooks = [dict(type='ResumeStateHook'), dict(type='LossRecorderHook', path=record)]
    return cfg


def test_stprivacy_resume_repeats_the_uninterrupted_trajectory(tiny_data, tmp_path):
    ref_work, work = str(tmp_path / 'uninterrupted'), str(tmp_path / 'interrupted')
    ref_record, first, resumed = (osp.join(str(tmp_path), f) for f in
                                  ('ref.jsonl', 'first.jsonl', 'resumed.jsonl'))
    Runner.from_cfg(stprivacy_cfg(ref_work, tiny_data, N, ref_record)).train()
    Runner.from_cfg(stprivacy_cfg(work, tiny_data, 2, first)).train()  # stops at iter_2
    cfg = stprivacy_cfg(work, tiny_data, N, resumed)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    ref, again = read_losses(ref_record), read_losses(resumed)
    assert sorted(again) == [3, 4]
    assert any(k.endswith('loss_keep') for k in ref[3]), ref[3]  # the sparsifier trained
    for i in again:
        assert again[i] == ref[i], (i, again[i], ref[i])
    assert read_losses(first)[2] == ref[2]
    assert set(runner.optim_wrapper.keys()) >= set(BRANCHES)
