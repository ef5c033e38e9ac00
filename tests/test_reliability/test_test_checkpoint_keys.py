"""tools/test.py refuses a checkpoint that does not fill the model it evaluates (item 12)."""
import pytest
import torch
from conftest import load_tool
from mmengine.runner import Runner

from spact_mm.apis.demo import config_dir
from spact_mm.apis.test import CheckpointMismatchError, build_test_cfg
from spact_mm.apis.test import test as run_test

parse_test_args = load_tool('test.py').parse_args
CFG = str(config_dir() / 'spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py')


@pytest.fixture(scope='module')
def model_state():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from spact_mm.registry import MODELS

    torch.manual_seed(0)
    cfg = Config.fromfile(CFG)
    with DefaultScope.overwrite_default_scope('spact_mm'):
        return MODELS.build(cfg.model).state_dict()


def _cfg(tmp_path, ckpt, *extra):
    cfg = build_test_cfg(parse_test_args([CFG, ckpt, '--work-dir', str(tmp_path), *extra]))
    cfg.experiment_name = f'keys_{tmp_path.name}'
    return cfg


def test_missing_and_reshaped_backbone_keys_are_an_error_unless_allowed(model_state, tmp_path,
                                                                        monkeypatch):
    state = dict(model_state)
    conv = next(k for k in state if k.startswith('backbone.') and k.endswith('conv.weight'))
    dropped = next(k for k in state if k.startswith('backbone.layer4') and 'weight' in k)
    state[conv] = torch.zeros(3, 3)
    del state[dropped]
    ckpt = str(tmp_path / 'other.pth')
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    monkeypatch.setattr(Runner, 'test', lambda self: {'acc/top1': 0.0})  # no data needed
    with pytest.raises(CheckpointMismatchError) as err:
        run_test(_cfg(tmp_path, ckpt))
    msg = str(err.value)
    assert ckpt in msg and dropped in msg and f'{conv} (3, 3) in the checkpoint' in msg
    assert '--allow-partial-checkpoint' in msg
    assert run_test(_cfg(tmp_path, ckpt, '--allow-partial-checkpoint')) == {'acc/top1': 0.0}
    # The matching checkpoint passes (a DDP "module." prefix is ignored).
    full = str(tmp_path / 'full.pth')
    torch.save({'state_dict': {f'module.{k}': v for k, v in model_state.items()}}, full)
    assert run_test(_cfg(tmp_path, full)) == {'acc/top1': 0.0}
