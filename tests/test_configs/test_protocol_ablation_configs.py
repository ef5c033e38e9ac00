"""Protocol, supervised and ablation configs of issue 3 build, and every
minimax config runs step 1 on a tiny batch."""
import copy
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
