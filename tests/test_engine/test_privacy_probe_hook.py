"""PrivacyProbeHook: fresh probes see attributes in raw frames, not in a constant f_A's output."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub, MMLogger

from spact_mm.engine.hooks import PrivacyProbeHook

PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    root = tmp_path_factory.mktemp('probe') / 'syn'
    generate_synthetic_dataset(str(root), videos_per_class=8, val_videos_per_class=2,
                               num_frames=8, size=32)
    return str(root)


def dataset(root: str) -> dict:
    return dict(type='PrivacyVideoDataset',
                ann_file=f'{root}/annotations/privacy_videos_a_train.json',
                data_prefix=dict(video=root), pipeline=PIPELINE, test_mode=True)


class Constant(nn.Module):

    def forward(self, x):
        return torch.full_like(x, 0.5)


def test_probe_separates_raw_from_a_constant_anonymizer(data_root):
    hook = PrivacyProbeHook(dataset(data_root), attributes=['outdoor', 'tree', 'car', 'lamp'])
    raw = hook.probe_cmap(nn.Identity())
    const = hook.probe_cmap(Constant())
    assert raw['privacy/probe_cmap'] > const['privacy/probe_cmap'] + 20, (raw, const)
    assert set(raw) == {'privacy/probe_cmap', 'privacy/probe_cmap/logreg-pixels',
                        'privacy/probe_cmap/logreg-colour-hist'}
    # the worst case is at least as high as every probe
    assert raw['privacy/probe_cmap'] >= max(raw['privacy/probe_cmap/logreg-pixels'],
                                            raw['privacy/probe_cmap/logreg-colour-hist']) - 1e-9


def test_after_val_epoch_adds_the_metric_for_save_best(data_root):
    hook = PrivacyProbeHook(dataset(data_root), probes=('logreg-colour-hist', ))
    anonymizer = nn.Identity()
    model = SimpleNamespace(data_preprocessor=SimpleNamespace(anonymizer=anonymizer))
    hub = MessageHub.get_instance('test_probe_hook')
    runner = SimpleNamespace(model=model, message_hub=hub,
                             logger=MMLogger.get_instance('test_probe_hook'))
    metrics = {'acc/top1': 0.5}
    hook.after_val_epoch(runner, metrics)
    assert 0 < metrics['privacy/probe_cmap'] <= 100
    assert hub.get_scalar('val/privacy/probe_cmap').current() == metrics['privacy/probe_cmap']


def test_bad_arguments_are_named(data_root):
    with pytest.raises(ValueError, match='unknown probes'):
        PrivacyProbeHook(dataset(data_root), probes=('knn', ))
    hook = PrivacyProbeHook(dataset(data_root), attributes=['beard'])
    with pytest.raises(KeyError, match='beard'):
        hook.probe_cmap(nn.Identity())
