"""The protocol driver end to end on a tiny synthetic dataset, plus tables and plot."""
import json
import os.path as osp
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from spact_mm.datasets.synthetic import generate_synthetic_dataset
from spact_mm.evaluation import relative_drops, run_protocol
from spact_mm.evaluation.protocol import build_task_cfg, resolve_anonymizer
from spact_mm.evaluation.reporting import format_results_table, plot_tradeoff

ROOT = Path(__file__).resolve().parents[2]
CROSS = str(ROOT / 'configs/protocols/'
            'protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py')
TINY = {'action.train_cfg.max_iters': 1, 'privacy.train_cfg.max_iters': 2,
        'action.train_dataloader.batch_size': 4, 'action.val_dataloader.batch_size': 8,
        'privacy.train_dataloader.batch_size': 8, 'privacy.val_dataloader.batch_size': 32}


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=2, val_videos_per_class=2, size=32)
    return root


def test_protocol_end_to_end_writes_valid_results(data_root, tmp_path):
    raw = run_protocol(CROSS, 'raw', str(tmp_path / 'raw'), data_root=data_root,
                       cfg_options=TINY, progress=False, num_workers=0)
    on_disk = json.loads((tmp_path / 'raw' / 'results.json').read_text())
    assert on_disk == raw
    assert raw['method'] == 'raw' and raw['protocol'] == 'cross-dataset'
    assert raw['iters'] == {'action': 1, 'privacy': 2}
    m = raw['metrics']
    assert set(m) == {'action_top1', 'privacy_cmap', 'privacy_f1'}
    assert 0 <= m['action_top1'] <= 100 and 0 <= m['privacy_cmap'] <= 100
    assert 0 <= m['privacy_f1'] <= 1
    assert raw['drops_pct'] == {k: 0.0 for k in m}
    # reusing figures of another anonymizer is refused
    with pytest.raises(ValueError, match='evaluates'):
        run_protocol(CROSS, 'downsample-4x', str(tmp_path / 'x'), data_root=data_root,
                     cfg_options=TINY, progress=False, num_workers=0, tasks=['privacy'],
                     reuse=str(tmp_path / 'raw' / 'results.json'))
    # a baseline, privacy only, with drops against raw
    ds = run_protocol(CROSS, 'downsample-4x', str(tmp_path / 'ds4'), data_root=data_root,
                      cfg_options=TINY, progress=False, num_workers=0, tasks=['privacy'],
                      raw_results=str(tmp_path / 'raw' / 'results.json'))
    assert set(ds['metrics']) == {'privacy_cmap', 'privacy_f1'}
    for k, v in ds['metrics'].items():
        r = m[k]
        assert ds['drops_pct'][k] == pytest.approx((r - v) / r * 100)
    table = format_results_table([raw, ds])
    lines = table.strip().splitlines()
    assert lines[0].startswith('| Method | cross-dataset')
    assert lines[2].startswith('| raw |') and lines[3].startswith('| downsample-4x |')
    assert f"{ds['metrics']['privacy_cmap']:.1f} " in lines[3] and '%' in lines[3]
    assert lines[3].split('|')[2].strip() == '–'  # no action figure for the baseline run
    png = plot_tradeoff([raw, dict(ds, metrics=dict(ds['metrics'], action_top1=10.0))],
                        str(tmp_path / 'fig.png'))
    assert osp.getsize(png) > 1000 and open(png, 'rb').read(4) == b'\x89PNG'


def test_relative_drops():
    raw = dict(metrics=dict(action_top1=80.0, privacy_cmap=60.0, privacy_f1=0.5))
    d = relative_drops(dict(action_top1=60.0, privacy_cmap=45.0, privacy_f1=0.6), raw)
    assert d == pytest.approx(dict(action_top1=25.0, privacy_cmap=25.0, privacy_f1=-20.0))


def test_resolve_anonymizer_and_checkpoint_loading(tmp_path):
    from spact_mm.registry import MODELS

    assert resolve_anonymizer('downsample-2x') == (
        dict(type='DownsampleAnonymizer', factor=2), None, None)
    assert resolve_anonymizer('obf-strongblur-oracle') == (
        dict(type='IdentityAnonymizer'), None, 'strong_blur')
    with pytest.raises(ValueError):
        resolve_anonymizer('no-such-thing')
    cfg = Config.fromfile(CROSS)
    unet = MODELS.build(cfg.anonymizer)
    ckpt = str(tmp_path / 'final.pth')
    torch.save(dict(state_dict={f'data_preprocessor.anonymizer.{k}': v
                                for k, v in unet.state_dict().items()}), ckpt)
    anon, path, oracle = resolve_anonymizer(ckpt, cfg.anonymizer)
    assert path == ckpt and oracle is None
    task = build_task_cfg(cfg, 'privacy', anon, path, 'blacken', str(tmp_path / 'w'),
                          progress=False)
    pipeline = [s['type'] for s in task.train_dataloader.dataset.pipeline]
    assert pipeline[:2] == ['LoadPrivacyImage', 'ObfuscatePersons']
    model = MODELS.build(task.model)
    pre = model.data_preprocessor
    assert pre.frozen and not any(p.requires_grad for p in pre.anonymizer.parameters())
    for k, v in unet.state_dict().items():
        torch.testing.assert_close(pre.anonymizer.state_dict()[k], v)
    assert task.train_cfg.val_begin == cfg.privacy.train_cfg.max_iters + 1
    # an epoch-based schedule: test once after the last epoch, checkpoint by epoch
    cfg.privacy.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)
    with pytest.raises(ValueError, match='InfiniteSampler.*DefaultSampler'):
        build_task_cfg(cfg, 'privacy', anon, path, None, str(tmp_path / 'e'), progress=False)
    cfg.privacy.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    task = build_task_cfg(cfg, 'privacy', anon, path, None, str(tmp_path / 'e'), progress=False)
    assert task.train_cfg.val_begin == 4
    ckpt_hook = task.default_hooks.checkpoint
    assert ckpt_hook.by_epoch and ckpt_hook.interval == 3


def test_results_table_keeps_datasets_of_one_protocol_apart():
    def res(method, dataset, cmap):
        return dict(method=method, protocol='cross-dataset', dataset=dataset,
                    metrics=dict(privacy_cmap=cmap))

    table = format_results_table([res('raw', 'ucf101-vispr1', 64.4), res('raw', 'pa-hmdb', 70.0),
                                  res('SPAct', 'ucf101-vispr1', 57.4)])
    head, _, raw_row, spact_row = table.strip().splitlines()
    assert head.count('cross-dataset') == 2
    assert '(pa-hmdb)' in head and '(ucf101-vispr1)' in head
    cells = [c.strip() for c in raw_row.split('|')[1:-1]]
    assert cells == ['raw', '70.0', '64.4']  # both raw figures kept, datasets sorted
    assert [c.strip() for c in spact_row.split('|')[1:-1]] == ['SPAct', '–', '57.4']


FACES = str(ROOT / 'configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-faces.py')


def test_face_anonymizer_is_refused_unless_its_detector_is_chosen(tmp_path):
    """The protocol's pipelines carry no face boxes: a face f_A would run on the Haar
    cascade, which misses most drawn faces, so it is refused before any training."""
    from spact_mm.evaluation.protocol import check_face_boxes
    from spact_mm.registry import MODELS

    cfg = Config.fromfile(FACES)
    ckpt = str(tmp_path / 'final.pth')
    m = MODELS.build(cfg.anonymizer)
    torch.save(dict(state_dict={f'data_preprocessor.anonymizer.{k}': v
                                for k, v in m.state_dict().items()}), ckpt)
    with pytest.raises(ValueError, match='privacy_audit.py.*--face-boxes detector'):
        run_protocol(FACES, ckpt, str(tmp_path / 'w'), progress=False)
    assert not osp.exists(tmp_path / 'w' / 'action')  # nothing trained
    check_face_boxes(dict(cfg.anonymizer), 'detector', FACES)  # the user's choice
    check_face_boxes(dict(type='DownsampleAnonymizer', factor=2), None, FACES)  # not a face f_A
    with pytest.raises(ValueError, match='face_boxes'):
        check_face_boxes(dict(cfg.anonymizer), 'gt', FACES)
