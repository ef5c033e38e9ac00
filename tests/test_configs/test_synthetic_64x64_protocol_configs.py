"""The 64x64 synthetic protocol configs: their 32x32 siblings with only the frame
size changed; their pipelines give 64x64 inputs on real generated data, and both
tiny fresh models take a loss step on them."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from spact_mm.datasets.synthetic import generate_synthetic_dataset
from spact_mm.evaluation.protocol import _retarget, build_task_cfg
from spact_mm.registry import DATASETS, MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs/protocols'
SIBLINGS = {
    'protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person-64x64.py':
    'protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py',
    'protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person-64x64.py':
    'protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py',
    'protocol-novel_r3d18-tiny_r18-tiny_200iter_synthetic-b-images-scene-64x64.py':
    'protocol-novel_r3d18-tiny_r18-tiny_200iter_synthetic-b-images-scene.py',
}
TASKS = ('action', 'privacy')
LOADERS = ('train_dataloader', 'val_dataloader')


def _without_scales(obj):
    """The nested config with every ``scale`` entry removed."""
    if isinstance(obj, dict):
        return {k: _without_scales(v) for k, v in obj.items() if k != 'scale'}
    if isinstance(obj, (list, tuple)):
        return [_without_scales(v) for v in obj]
    return obj


def _scales(cfg: Config) -> set:
    return {tuple(t['scale']) for task in TASKS for loader in LOADERS
            for t in cfg[task][loader]['dataset']['pipeline'] if 'scale' in t}


def test_every_64x64_synthetic_config_is_checked():
    assert sorted(p.name for p in CONFIGS.glob('*synthetic*64x64.py')) == sorted(SIBLINGS)


@pytest.mark.parametrize('name', sorted(SIBLINGS), ids=lambda n: n.split('_')[0])
def test_64x64_config_is_its_32x32_sibling_at_another_frame_size(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    sibling = Config.fromfile(str(CONFIGS / SIBLINGS[name]))
    assert _scales(cfg) == {(64, 64)}
    assert _scales(sibling) == {(32, 32)}
    assert cfg.protocol.name == sibling.protocol.name
    assert cfg.protocol.dataset == sibling.protocol.dataset + '/64x64'
    for task in TASKS:
        assert _without_scales(cfg[task].to_dict()) == _without_scales(sibling[task].to_dict())
    for key in ('anonymizer', 'data_root', 'person_attributes', 'scene_attributes'):
        assert cfg[key] == sibling[key], key


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('synthetic64') / 'data')
    generate_synthetic_dataset(root, seed=0, videos_per_class=1, val_videos_per_class=1,
                               size=64, num_identities=4)
    return root


@pytest.mark.parametrize('name', sorted(SIBLINGS), ids=lambda n: n.split('_')[0])
def test_64x64_inputs_and_a_loss_step(name, data_root, tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(str(CONFIGS / name))
    init_default_scope('spact_mm')
    expected = {'action': (1, 3, 8, 64, 64), 'privacy': (3, 64, 64)}
    for task in TASKS:
        task_cfg = build_task_cfg(cfg, task, dict(type='IdentityAnonymizer'), None, None,
                                  str(tmp_path / task), progress=False)
        task_cfg = Config(_retarget(task_cfg.to_dict(), cfg.data_root, data_root))
        datasets = [DATASETS.build(copy.deepcopy(task_cfg[loader]['dataset']))
                    for loader in LOADERS]
        for ds in datasets:
            assert len(ds) >= 2
            assert tuple(ds[0]['inputs'].shape) == expected[task], task
        model = MODELS.build(task_cfg.model)
        data = model.data_preprocessor(pseudo_collate([datasets[0][0], datasets[0][1]]), True)
        assert tuple(data['inputs'].shape[-2:]) == (64, 64)
        losses = model(**data, mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        assert torch.isfinite(loss), (task, losses)
        loss.backward()  # the heads' in_channels fit the 64 px feature maps
