"""AnonymizationVisualizationHook: fixed validation clips, grids to local files and TensorBoard."""
import copy
import glob
import itertools
import logging
from types import SimpleNamespace

import cv2
import numpy as np
import torch
import torch.nn as nn
from conftest import make_batch, tiny_model_cfg

from spact_mm.engine.hooks import AnonymizationVisualizationHook
from spact_mm.registry import HOOKS, MODELS, VISUALIZERS

_ids = itertools.count()


class _Model(nn.Module):
    def __init__(self, pre):
        super().__init__()
        self.data_preprocessor = pre


def fake_runner(tmp_path, pre):
    """A runner stand-in with the README's visualizer (local PNGs and TensorBoard)."""
    vis = VISUALIZERS.build(dict(
        type='ActionVisualizer', name=f'test_anon_vis_{next(_ids)}', save_dir=str(tmp_path),
        vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]))
    return SimpleNamespace(model=_Model(pre), visualizer=vis, iter=0,
                           logger=logging.getLogger('test_anon_vis'))


def build_pre(seed=0):
    torch.manual_seed(seed)
    pre = MODELS.build(copy.deepcopy(tiny_model_cfg()['data_preprocessor']))
    return pre.eval()


def reference_grid(unet, clips, num_frames, scale):
    """The grid by hand: uint8 clips (1, C, T, H, W) -> per clip raw row over f_A row."""
    rows = []
    for clip in clips:
        x = clip[0].double().permute(1, 0, 2, 3) / 255.  # (T, C, H, W)
        with torch.no_grad():
            y = copy.deepcopy(unet).double().eval()(x)
        idx = np.linspace(0, x.shape[0] - 1, num_frames).round().astype(int)
        for v in (x, y):
            rows.append(np.concatenate([v[i].permute(1, 2, 0).numpy() for i in idx], axis=1))
    img = np.concatenate(rows, axis=0)
    img = np.kron(img, np.ones((scale, scale, 1)))
    return (img.clip(0, 1) * 255).round()


def validate(hook, runner, batches, it):
    runner.iter = it
    for i, b in enumerate(batches):
        hook.after_val_iter(runner, i, b, None)
    hook.after_val_epoch(runner, {})


def read_png(path):
    return cv2.imread(path)[..., ::-1].astype(float)


def test_grids_of_fixed_clips_at_each_validation(tmp_path):
    pre = build_pre()
    runner = fake_runner(tmp_path, pre)
    hook = HOOKS.build(dict(type='AnonymizationVisualizationHook', num_clips=4, num_frames=4,
                            scale=2))
    assert isinstance(hook, AnonymizationVisualizationHook)
    first = [make_batch(n=3, t=8, size=16, seed=1), make_batch(n=3, t=8, size=16, seed=2)]
    clips = first[0]['inputs'] + first[1]['inputs'][:1]  # the first 4 samples seen
    validate(hook, runner, first, it=5)
    # f_A changes between validations (as in minimax training); the clips do not.
    with torch.no_grad():
        for p in pre.anonymizer.parameters():
            p.add_(0.05 * torch.randn_like(p))
    validate(hook, runner, [make_batch(n=3, t=8, size=16, seed=9)] * 2, it=10)

    pngs = sorted(glob.glob(str(tmp_path / '**' / 'anonymization_*.png'), recursive=True))
    assert [p.rsplit('_', 1)[-1] for p in pngs] == ['10.png', '5.png']
    g10, g5 = read_png(pngs[0]), read_png(pngs[1])
    assert g5.shape == (4 * 2 * 16 * 2, 4 * 16 * 2, 3)
    assert np.abs(g10 - reference_grid(pre.anonymizer, clips, 4, 2)).max() <= 1
    raw_rows = np.concatenate([g10[i * 64:i * 64 + 32] for i in range(4)])
    assert np.array_equal(raw_rows, np.concatenate([g5[i * 64:i * 64 + 32] for i in range(4)]))
    assert np.abs(g10 - g5).max() > 10  # f_A's rows moved

    # TensorBoard got the same images, at the same steps.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = glob.glob(str(tmp_path / '**' / 'events.out.tfevents.*'), recursive=True)
    assert events
    acc = EventAccumulator(events[0], size_guidance={'images': 0})
    acc.Reload()
    imgs = acc.Images('anonymization')
    assert [e.step for e in imgs] == [5, 10]
    tb10 = cv2.imdecode(np.frombuffer(imgs[1].encoded_image_string, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(tb10[..., ::-1].astype(float), g10)


def test_skips_models_without_anonymizer(tmp_path, caplog):
    runner = fake_runner(tmp_path, nn.Identity())
    hook = AnonymizationVisualizationHook()
    validate(hook, runner, [make_batch(n=2)], it=1)
    assert not glob.glob(str(tmp_path / '**' / '*.png'), recursive=True)
    assert 'no AnonymizerDataPreprocessor' in caplog.text
