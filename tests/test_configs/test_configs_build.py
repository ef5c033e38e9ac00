"""Every config under configs/ loads and builds its model."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)
# Protocol configs describe fresh attacker models (`action`, `privacy`), not one
# `model` (`model = None` where they reuse a model base); test_protocol_ablation_configs.py
# builds those.
MODEL_CONFIGS = [p for p in CONFIGS if 'protocols' not in p.parts]


def test_configs_found():
    """The glob reaches the configs the demo and the docs name (a wrong root or pattern
    would leave the tests below with nothing to check)."""
    from spact_mm.apis.demo import RECIPES, config_dir

    assert config_dir().resolve() == (ROOT / 'configs').resolve()
    named = {ROOT / 'configs' / p for recipe in RECIPES.values() for p in recipe.values()}
    assert named <= set(MODEL_CONFIGS)
    assert any('protocols' in p.parts for p in CONFIGS)


def test_protocol_configs_are_the_only_ones_without_a_model():
    for path in CONFIGS:
        cfg = Config.fromfile(str(path))
        assert (cfg.get('model') is not None) == (path in MODEL_CONFIGS), path


@pytest.mark.parametrize('path', MODEL_CONFIGS, ids=[p.name for p in MODEL_CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'spact_mm'
    assert 'spact_mm' in cfg.custom_imports['imports']
    init_default_scope(cfg.default_scope)
    model_cfg = cfg.model.copy()
    # Later stages name the previous stage's checkpoint, which does not exist here.
    pre = model_cfg.get('data_preprocessor', {})
    if pre.get('checkpoint'):
        pre['checkpoint'] = None
    model = MODELS.build(model_cfg)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > 0
    if 'ucf101' in path.name and '_unet' in path.name:
        # Paper scale with a UNet f_A (BDQ's has 16 parameters): the classic UNet f_A
        # (about 31M parameters), and for stages 2-3 also R3D-18 f_T (about 33M)
        # and ResNet-50 f_B + g (about 28M).
        n_unet = sum(p.numel() for p in model.data_preprocessor.anonymizer.parameters())
        assert 30e6 < n_unet < 32e6
        if model_cfg['type'] == 'SPActRecognizer':
            assert n_params > n_unet + 55e6
