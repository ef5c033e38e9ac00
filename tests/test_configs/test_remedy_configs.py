"""configs/spact-remedies (issue 12): every config builds, and trains two minimax
iterations (step 1, then step 2) through mmengine's Runner on generated data."""
import math
import uuid
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / 'configs/spact-remedies').glob('*.py'))
# the stage-3 remedies; spact-stage{1,2}-motion_* are the motion f_A's own first stages
REMEDIES = [p for p in CONFIGS if p.name.startswith('spact-stage3-')]
# Runner runs for the configs with new components (the others change numbers only):
# temporal consistency, the released configuration (augmented views before f_A,
# frozen branches in eval mode), the min-ensemble with restarts, probe selection.
TRAINED = [p for p in REMEDIES
           if p.stem.split('_')[0].replace('spact-stage3-', '') in (
               'tc', 'released', 'ensemble-min', 'probe-select', 'motion')]


@pytest.mark.parametrize('path', REMEDIES, ids=lambda p: p.stem.split('_')[0])
def test_remedy_config_builds_model_and_optim_wrapper(path):
    import copy

    from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

    cfg = Config.fromfile(str(path))
    model = MODELS.build(copy.deepcopy(cfg.model))
    optim_cfg = copy.deepcopy(cfg.optim_wrapper.to_dict())
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=optim_cfg.pop('constructor'),
                                                    optim_wrapper_cfg=optim_cfg))(model)
    assert type(wrapper).__name__ == 'MinimaxOptimWrapper'
    hooks = list(cfg.custom_hooks) + list(cfg.default_hooks.values())
    assert not any(h.type == 'SSLLossThresholdHook' and h.threshold is not None for h in hooks)


@pytest.fixture(scope='module')
def tiny_synthetic(tmp_path_factory):
    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=2, val_videos_per_class=1)
    return root


def test_every_remedy_config_is_listed_in_the_readme():
    readme = (ROOT / 'configs/spact-remedies/README.md').read_text()
    missing = [p.name for p in CONFIGS if p.name not in readme]
    assert not missing, missing


@pytest.mark.parametrize('path', TRAINED, ids=lambda p: p.stem.split('_')[0])
def test_remedy_config_trains_two_minimax_iterations(path, tiny_synthetic, tmp_path):
    from mmengine.runner import Runner

    from spact_mm.apis.demo import retarget_data

    cfg = Config.fromfile(str(path))
    retarget_data(cfg, tiny_synthetic, num_workers=0)
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'remedy_{uuid.uuid4().hex[:8]}'  # fresh MessageHub
    cfg.load_from = None  # no stage-2 checkpoint here
    cfg.model.pop('init_cfg', None)  # nor the stage-2 hand-over (model init)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = 2
    probe = any(h.type == 'PrivacyProbeHook' for h in cfg.default_hooks.values())
    cfg.train_cfg.val_interval = 1 if probe else 100  # the probe config validates each time
    cfg.default_hooks.checkpoint.interval = 100
    cfg.default_hooks.logger.interval = 1
    for hook in cfg.default_hooks.values():
        if hook.type == 'PrivacyProbeHook':  # not run before a validation; point it here
            ann = f'{tiny_synthetic}/annotations/privacy_videos_a_train.json'
            hook.train_dataset.ann_file = ann
            hook.train_dataset.data_prefix = dict(video=tiny_synthetic)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2 and runner.optim_wrapper.minimax_iter == 2
    hub = runner.message_hub
    losses = hub.get_scalar('train/loss_ssl').data[0]
    assert len(losses) == 2 and all(map(math.isfinite, losses))
    if probe:  # selection and stopping by the fresh probe
        assert len(hub.get_scalar('val/privacy/probe_cmap').data[0]) == 2
        assert list(Path(tmp_path).glob('best_privacy_probe_cmap_iter_*.pth'))
    pre = cfg.model.data_preprocessor
    if pre.get('temporal_consistency'):
        tc = hub.get_scalar('train/loss_tc').data[0]
        assert len(tc) == 2 and all(v >= 0 and math.isfinite(v) for v in tc)
