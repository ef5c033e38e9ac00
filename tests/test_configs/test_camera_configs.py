"""The camera-sized f_A configs (issue 17): the three stages chain through their own
work dirs, and their f_A is the demo's UNet on pixel blocks, at a fraction of its cost."""
from pathlib import Path

import pytest
import torch
from conftest import load_tool
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401
from spact_mm.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
_bench = load_tool('analysis_tools/anonymizer_benchmark.py')
build_anonymizer, flops_per_frame = _bench.build_anonymizer, _bench.flops_per_frame
CAMERA = sorted((ROOT / 'configs/spact-camera').glob('*.py'))
DEMO_STAGE1 = ROOT / 'configs/spact/spact-stage1_unet-tiny_200iter_synthetic-a.py'


def stage(n: int) -> Path:
    (path, ) = [p for p in CAMERA if p.name.startswith(f'spact-stage{n}_')]
    return path


def work_dir(path: Path) -> str:
    """mmaction2's tools/train.py default: work_dirs/<config name>."""
    return f'work_dirs/{path.stem}'


def test_three_stages_chain_through_their_own_work_dirs():
    assert len(CAMERA) == 3
    s2, s3 = Config.fromfile(str(stage(2))), Config.fromfile(str(stage(3)))
    assert s2.model.data_preprocessor.checkpoint == f'{work_dir(stage(1))}/final.pth'
    assert s3.model.init_cfg.checkpoint == f'{work_dir(stage(2))}/final.pth'
    demo = Config.fromfile(str(DEMO_STAGE1))
    fas = [Config.fromfile(str(p)).model.data_preprocessor.anonymizer for p in CAMERA]
    assert all(fa == fas[0] for fa in fas)  # one f_A through the stages
    # the demo's UNet on 4x4 pixel blocks: no layer at full resolution
    assert fas[0].space_to_depth == 4
    assert fas[0].base_channels == demo.model.data_preprocessor.anonymizer.base_channels
    for path in CAMERA:  # the demo's data, schedule and hooks otherwise
        cfg = Config.fromfile(str(path))
        assert cfg.train_dataloader.dataset.ann_file == demo.train_dataloader.dataset.ann_file


@pytest.mark.parametrize('path', CAMERA, ids=[p.name for p in CAMERA])
def test_camera_config_builds(path):
    cfg = Config.fromfile(str(path))
    cfg.model.data_preprocessor.checkpoint = None  # the previous stage's run is not here
    init_default_scope('spact_mm')
    model = MODELS.build(cfg.model)
    unet = model.data_preprocessor.anonymizer
    assert unet.size_divisor == 16 and unet.space_to_depth == 4
    x = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        assert unet.eval()(x).shape == x.shape


def test_camera_f_a_costs_a_fraction_of_the_demo_f_a():
    """Convolution FLOPs per 640x480 frame, counted by torch's FlopCounterMode and,
    independently, from every Conv2d's output size: 2 * C_in * k_h * k_w per output."""
    camera, demo = build_anonymizer(str(stage(1))), build_anonymizer('demo')
    x = torch.rand(1, 3, 480, 640)

    def by_hooks(module):
        total = []
        hooks = [m.register_forward_hook(lambda m, i, o: total.append(
            2 * o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]))
            for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
        with torch.no_grad():
            module(x)
        for h in hooks:
            h.remove()
        return sum(total)

    for module in (camera, demo):
        assert flops_per_frame(module, x) == pytest.approx(by_hooks(module), rel=1e-6)
    assert by_hooks(camera) < by_hooks(demo) / 8
