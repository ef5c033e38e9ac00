"""Protocol, supervised and ablation configs of issue 3 build, and every
minimax config runs step 1 on a tiny batch."""
import copy
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = sorted((ROOT / 'configs/protocols').glob('*.py'))
MINIMAX = sorted((ROOT / 'configs/ablations').glob('*.py')) + sorted(
    (ROOT / 'configs/supervised').glob('*.py'))


@pytest.mark.parametrize('path', PROTOCOLS, ids=lambda p: p.stem)
def test_protocol_config_models_build(path):
    from spact_mm.evaluation.protocol import build_task_cfg

    cfg = Config.fromfile(str(path))
    assert cfg.protocol.name in ('same-dataset', 'cross-dataset', 'novel')
    for task in ('action', 'privacy'):
        task_cfg = build_task_cfg(cfg, task, dict(type='IdentityAnonymizer'), None, None,
                                  '/tmp/unused', progress=False)
        model = MODELS.build(task_cfg.model)
        assert type(model.data_preprocessor).__name__ == 'ProtocolAnonymizerPreprocessor'


@pytest.mark.parametrize('path', MINIMAX, ids=lambda p: p.stem)
def test_minimax_config_one_step(path):
    from conftest import make_batch

    cfg = Config.fromfile(str(path))
    model = MODELS.build(copy.deepcopy(cfg.model))
    optim_cfg = copy.deepcopy(cfg.optim_wrapper.to_dict())
    constructor = optim_cfg.pop('constructor')
    optim = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=constructor,
                                                  optim_wrapper_cfg=optim_cfg))(model)
    batch = make_batch(n=2, t=8, size=16)
    for s in batch['data_samples']:
        s.set_field(torch.tensor([1., 0., 1., 0.]), 'privacy_label')
    losses = model.train_step(batch, optim)  # step 1: f_A through f_T and f_B
    assert all(torch.isfinite(v).all() for v in losses.values())


# Ablations of Tables 3, 5 and 6 added with their own privacy heads: each trains
# one minimax cycle (step 1, then step 2) through mmengine's Runner.
NEW_HEAD_ABLATIONS = [
    ROOT / 'configs/ablations' / name for name in (
        'spact-stage3-moco_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py',
        'spact-stage3-rotnet_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py',
        'spact-stage3-fb-3d-r3d18_unet-tiny-r3d18_minimax-150iter_synthetic-a.py',
        'spact-stage3-fb-r50-mobilenetv2-ensemble_unet-tiny-r3d18_minimax-150iter_synthetic-a.py',
    )
]


@pytest.fixture(scope='module')
def tiny_synthetic(tmp_path_factory):
    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=1, val_videos_per_class=1)
    return root


@pytest.mark.parametrize('path', NEW_HEAD_ABLATIONS, ids=lambda p: p.stem.split('_')[0])
def test_new_head_ablation_trains_two_minimax_iterations(path, tiny_synthetic, tmp_path):
    import uuid

    from mmengine.runner import Runner

    from spact_mm.apis.demo import retarget_data

    assert path.is_file()
    cfg = Config.fromfile(str(path))
    retarget_data(cfg, tiny_synthetic, num_workers=0)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'ablation_{uuid.uuid4().hex[:8]}'  # fresh MessageHub
    cfg.load_from = None  # no stage-2 checkpoint here: every branch starts from scratch
    cfg.model.pop('init_cfg', None)  # nor the stage-2 hand-over (model init)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 100
    cfg.default_hooks.checkpoint.interval = 100
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert runner.optim_wrapper.minimax_iter == 2  # one step 1, one step 2
    losses = runner.message_hub.get_scalar('train/loss_ssl').data[0]
    assert len(losses) == 2 and all(map(math.isfinite, losses))
    head = runner.model.privacy_head
    if type(head).__name__ == 'MoCoPrivacyHead':
        # synced at iteration 1 (step 1), moved and enqueued once at iteration 2 (step 2)
        assert int(head.encoder_k.steps) == 2 and int(head.queue_ptr) == 2
    if type(head).__name__ == 'EnsemblePrivacyHead':
        member = [runner.message_hub.get_scalar(f'train/ssl_{n}').data[0][-1]
                  for n in ('r50', 'mv2')]
        assert sum(member) / 2 == pytest.approx(losses[-1], rel=1e-5)
