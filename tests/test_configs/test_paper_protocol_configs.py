"""The paper-scale protocol configs of Tables 1 and 2 (configs/protocols/*_r3d18_r50_*).

Every config is turned into its two runner configs by the driver's own
:func:`~spact_mm.evaluation.protocol.build_task_cfg`, for a baseline (``raw``), for
the paper UNet without checkpoint and with an oracle obfuscation; the datasets of
both tasks are built from the fixture annotations in ``tests/data`` (so a wrong
dataset type, argument or annotation file name fails), and for the P-HVU protocol
(multi-label actions, 1678 object attributes) both models are built and run one loss
and one evaluation step, reading the metric keys the driver reads.
"""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401  (registers everything)
from spact_mm.datasets import (
    HMDB51_CLASSES,
    PA_HMDB_ATTRIBUTES,
    PA_HMDB_VISPR_GROUPS,
    VISPR1_ATTRIBUTES,
    VISPR2_ATTRIBUTES,
)
from spact_mm.evaluation.protocol import build_task_cfg, load_protocol_config, resolve_anonymizer
from spact_mm.registry import DATASETS, MODELS
from spact_mm.utils.compat import set_gt_label

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / 'protocols'
FIXTURES = ROOT / 'tests' / 'data'
#: Class counts of Sec. 5.1 not defined in the code: UCF101 has 101 actions; P-HVU
#: (HVU's full vocabularies) 739 actions, 1678 objects and 248 scenes.
UCF101_CLASSES, P_HVU = 101, dict(action=739, object=1678, scene=248)
VISPR_PA_HMDB = (tuple(PA_HMDB_VISPR_GROUPS.values()), PA_HMDB_ATTRIBUTES)

#: config stem -> (protocol name, f'_T (train, test) dataset types, f'_T classes,
#: action figure, f'_B (train, test) dataset types, f'_B classes, f'_B attributes).
#: f'_B attributes: a VISPR ``attributes`` tuple, ``(groups, class names)`` or an HVU
#: privacy category.
EXPECTED = {
    'protocol-cross_r3d18_r50_adam-30e_ucf101-vispr1': (
        'cross-dataset', ('UCF101Dataset', 'UCF101Dataset'), UCF101_CLASSES, 'action_top1',
        ('VISPRDataset', 'VISPRDataset'), len(VISPR1_ATTRIBUTES), VISPR1_ATTRIBUTES),
    'protocol-cross_r3d18_r50_adam-30e_hmdb51-vispr-pa-hmdb': (
        'cross-dataset', ('HMDB51Dataset', 'PAHMDBDataset'), len(HMDB51_CLASSES),
        'action_top1', ('VISPRDataset', 'PAHMDBDataset'), len(PA_HMDB_ATTRIBUTES),
        VISPR_PA_HMDB),
    'protocol-same_r3d18_r50_adam-3e_p-hvu-objects': (
        'same-dataset', ('PHVUDataset', 'PHVUDataset'), P_HVU['action'], 'action_cmap',
        ('PHVUDataset', 'PHVUDataset'), P_HVU['object'], 'object'),
    'protocol-same_r3d18_r50_adam-3e_p-hvu-scenes': (
        'same-dataset', ('PHVUDataset', 'PHVUDataset'), P_HVU['action'], 'action_cmap',
        ('PHVUDataset', 'PHVUDataset'), P_HVU['scene'], 'scene'),
    'protocol-novel_r3d18_r50_adam-30e_ucf101-hmdb51_vispr1-vispr2': (
        'novel', ('HMDB51Dataset', 'HMDB51Dataset'), len(HMDB51_CLASSES), 'action_top1',
        ('VISPRDataset', 'VISPRDataset'), len(VISPR2_ATTRIBUTES), VISPR2_ATTRIBUTES),
    'protocol-novel_r3d18_r50_adam-30e_ucf101-pa-hmdb_vispr1-vispr2': (
        'novel', ('HMDB51Dataset', 'PAHMDBDataset'), len(HMDB51_CLASSES), 'action_top1',
        ('VISPRDataset', 'VISPRDataset'), len(VISPR2_ATTRIBUTES), VISPR2_ATTRIBUTES),
    'protocol-novel_r3d18_r50_adam-3e_p-hvu-scenes-objects': (
        'novel', ('PHVUDataset', 'PHVUDataset'), P_HVU['action'], 'action_cmap',
        ('PHVUDataset', 'PHVUDataset'), P_HVU['object'], 'object'),
}


def test_every_paper_protocol_config_is_checked():
    found = {p.stem for p in CONFIGS.glob('protocol-*_r3d18_r50_*.py')}
    assert found == set(EXPECTED)


def _to_fixture(ds: dict) -> dict:
    """Point a dataset config at the fixture annotations of ``tests/data``.

    Only the folder changes: the configured file names must be the official ones
    that the fixtures copy, so a wrong name or layout fails to build.
    """
    ds = copy.deepcopy(ds)
    kind = ds['type']
    if kind == 'UCF101Dataset':  # data/ucf101/annotations/<file> -> tests/data/ucf101/<file>
        assert ds['data_root'] == 'data/ucf101'
        ds.update(data_root=str(FIXTURES / 'ucf101'), ann_file=Path(ds['ann_file']).name,
                  class_index_file=Path(ds['class_index_file']).name)
    elif kind == 'HMDB51Dataset':
        assert ds['data_root'] == 'data/hmdb51'
        ds.update(data_root=str(FIXTURES / 'hmdb51'), ann_file=Path(ds['ann_file']).name)
    elif kind == 'PAHMDBDataset':
        assert ds['ann_file'] == 'data/pa_hmdb/PrivacyAttributes'
        ds['ann_file'] = str(FIXTURES / 'pa_hmdb' / 'PrivacyAttributes')
    elif kind == 'VISPRDataset':
        assert ds['data_root'] == 'data/vispr'
        ds['data_root'] = str(FIXTURES / 'vispr')
    elif kind == 'PHVUDataset':
        assert ds['data_root'] == 'data/hvu'
        ds.update(data_root=str(FIXTURES / 'hvu'), ann_file=Path(ds['ann_file']).name,
                  category_file=Path(ds['category_file']).name)
    else:
        raise AssertionError(f'no fixture for {kind}')
    ds['check_files'] = False  # the fixtures hold annotations only, no videos or images
    return ds


def _check_privacy_classes(ds, cfg_ds: dict, num_classes: int, attributes) -> None:
    if cfg_ds['type'] == 'VISPRDataset':
        assert len(ds.metainfo['classes']) == num_classes
        if attributes is VISPR_PA_HMDB:  # (groups, class names)
            assert tuple(map(tuple, cfg_ds['attributes'])) == attributes[0]
            assert tuple(ds.metainfo['classes']) == attributes[1]
        else:
            assert tuple(cfg_ds['attributes']) == attributes
    elif cfg_ds['type'] == 'PAHMDBDataset':  # f'_B's test set of the PA-HMDB protocol
        assert cfg_ds['frame_level'] is True
        assert tuple(ds.metainfo['classes']) == PA_HMDB_ATTRIBUTES
        assert len(PA_HMDB_ATTRIBUTES) == num_classes
    else:  # P-HVU frames: the fixture vocabulary is small, the category is what counts
        assert ds.privacy_category == attributes and ds.label_category == 'action'
        assert ds.metainfo['classes'] == ds.metainfo['categories'][attributes]
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert all(0 <= j < num_classes for j in info['gt_label'])


@pytest.mark.parametrize('stem', sorted(EXPECTED))
def test_task_configs_and_datasets(stem, tmp_path):
    name, action_types, action_classes, figure, privacy_types, privacy_classes, attributes = \
        EXPECTED[stem]
    cfg = load_protocol_config(str(CONFIGS / f'{stem}.py'))
    assert cfg.protocol.name == name
    assert cfg.anonymizer == dict(type='UNetAnonymizer', base_channels=64, num_stages=5)
    raw = resolve_anonymizer('raw', cfg.anonymizer)
    specs = [raw, (cfg.anonymizer.to_dict(), None, None), (raw[0], None, 'blacken')]
    init_default_scope('spact_mm')
    for anon, ckpt, oracle in specs:
        action = build_task_cfg(cfg, 'action', anon, ckpt, oracle, str(tmp_path / 'a'),
                                progress=False)
        privacy = build_task_cfg(cfg, 'privacy', anon, ckpt, oracle, str(tmp_path / 'b'),
                                 progress=False)
        for task_cfg in (action, privacy):
            pre = task_cfg.model.data_preprocessor
            assert pre.type == 'ProtocolAnonymizerPreprocessor'
            assert pre.anonymizer == anon and pre.checkpoint == ckpt and pre.frozen
            loop = task_cfg.train_cfg
            assert loop.type == 'IterBasedTrainLoop' and isinstance(loop.max_iters, int)
            assert loop.max_iters > 0 and loop.val_begin > loop.max_iters
            # the driver tests once with val_dataloader; a test_dataloader without
            # test_cfg/test_evaluator would stop the Runner
            assert 'test_dataloader' not in task_cfg and 'train_dataloader' in task_cfg
            pipelines = [task_cfg[k].dataset.pipeline for k in ('train_dataloader',
                                                                 'val_dataloader')]
            n_oracle = sum(t['type'] == 'ObfuscatePersons' for p in pipelines for t in p)
            assert n_oracle == (2 if oracle else 0)

        # f'_T: mmaction2 R3D-18 recognizer, 16x112x112 clips
        assert action.model.type == 'Recognizer3D'
        assert action.model.backbone.type == 'ResNet3d' and action.model.backbone.depth == 18
        assert pre_type(action) == 'ActionDataPreprocessor'
        head = action.model.cls_head
        assert head.num_classes == action_classes
        if figure == 'action_cmap':  # multi-label: BCE, logits averaged, classwise mAP
            assert head.multi_class and head.loss_cls.type == 'BCELossWithLogits'
            assert head.average_clips == 'score'
            assert action.val_evaluator == dict(type='ClasswiseMultiLabelMetric',
                                                prefix='action', thr=0.0)
            assert (cfg.action.metric_key, cfg.action.metric_scale) == ('action/cmap', 1.)
        else:
            assert not head.get('multi_class', False)
            assert action.val_evaluator.type == 'AccMetric'
            assert (cfg.action.metric_key, cfg.action.metric_scale) == ('acc/top1', 100.)
        assert cfg.action.figure == figure
        for key in ('train_dataloader', 'val_dataloader'):
            sampler = [t for t in action[key].dataset.pipeline if t['type'] == 'SampleFrames']
            assert sampler[0]['clip_len'] == 16
        assert action.val_dataloader.dataset.test_mode

        # f'_B: mmpretrain ResNet-50 multi-label classifier (BCE), cMAP and F1
        assert privacy.model.type == 'ImageClassifier'
        assert privacy.model.backbone == dict(type='ResNet', depth=50)
        assert privacy.model.head.type == 'MultiLabelLinearClsHead'
        assert privacy.model.head.loss.use_sigmoid
        assert privacy.model.head.num_classes == privacy_classes
        assert pre_type(privacy) == 'mmpretrain.ClsDataPreprocessor'
        assert privacy.model.data_preprocessor.preprocessor.to_rgb is False
        assert privacy.val_evaluator == dict(type='ClasswiseMultiLabelMetric', prefix='privacy')
        assert cfg.privacy.metric_key == 'privacy'

    # datasets of both tasks, from the fixture annotations
    for task_cfg, types, num in ((action, action_types, action_classes),
                                 (privacy, privacy_types, privacy_classes)):
        for key, kind in zip(('train_dataloader', 'val_dataloader'), types):
            cfg_ds = task_cfg[key].dataset
            assert cfg_ds.type == kind
            ds = DATASETS.build(_to_fixture(cfg_ds.to_dict()))
            assert len(ds) > 0, f'{stem} {key}: no samples from the fixtures'
            if task_cfg is privacy:
                _check_privacy_classes(ds, cfg_ds, num, attributes)
                # every image / frame pipeline ends in mmpretrain's packer (after
                # ClipToImage for frames), and VISPR images are loaded as RGB
                steps = [t['type'] for t in cfg_ds.pipeline]
                assert steps[-1] == 'mmpretrain.PackInputs'
                assert steps[0] != 'LoadPrivacyImage' or \
                    cfg_ds.pipeline[0]['channel_order'] == 'rgb'
                assert kind == 'VISPRDataset' or 'ClipToImage' in steps
            elif kind == 'PHVUDataset':
                assert ds.label_category == 'action'
                assert ds.get_data_info(0)['label'].numel() == len(
                    ds.metainfo['categories']['action'])  # multi-hot
            else:  # single-label actions
                if kind in ('HMDB51Dataset', 'PAHMDBDataset'):
                    assert len(ds.metainfo.get('action_classes', ds.metainfo['classes'])) == num
                assert all(0 <= ds.get_data_info(i)['label'] < num for i in range(len(ds)))


def pre_type(task_cfg) -> str:
    """Type of the preprocessor the anonymizer wraps."""
    return task_cfg.model.data_preprocessor.preprocessor.type


def test_p_hvu_models_loss_and_driver_metric_keys(tmp_path):
    """Both fresh models of the P-HVU protocol behind the paper UNet: a loss step and an
    evaluation step on tiny inputs, and the metric keys the driver reads exist."""
    from mmaction.structures import ActionDataSample
    from mmengine.evaluator import Evaluator
    from mmpretrain.structures import DataSample

    torch.manual_seed(0)
    cfg = load_protocol_config(str(CONFIGS / 'protocol-same_r3d18_r50_adam-3e_p-hvu-objects.py'))
    init_default_scope('spact_mm')
    action = build_task_cfg(cfg, 'action', cfg.anonymizer.to_dict(), None, None,
                            str(tmp_path / 'a'), progress=False)
    privacy = build_task_cfg(cfg, 'privacy', cfg.anonymizer.to_dict(), None, None,
                             str(tmp_path / 'b'), progress=False)

    # f'_T: multi-label actions, two samples of one 8x32x32 clip each
    model = MODELS.build(action.model)
    assert type(model.data_preprocessor.anonymizer).__name__ == 'UNetAnonymizer'
    n = action.model.cls_head.num_classes
    labels = torch.zeros(2, n)
    labels[0, [3, 700]] = 1.
    labels[1, 3] = 1.
    samples = []
    for y in labels:
        samples.append(set_gt_label(ActionDataSample(), y))
    batch = dict(inputs=[torch.randint(0, 256, (1, 3, 8, 32, 32), dtype=torch.uint8)
                         for _ in range(2)], data_samples=samples)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls'}  # BCE, no top-k accuracy of single-label heads
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    with torch.no_grad():
        preds = model.val_step(copy.deepcopy(batch))
    evaluator = Evaluator(action.val_evaluator)
    evaluator.process(preds, batch)
    metrics = evaluator.evaluate(2)
    assert cfg.action.metric_key in metrics
    assert 0. <= metrics[cfg.action.metric_key] <= 100.

    # f'_B: 1678 multi-label objects on two 32x32 frames
    model = MODELS.build(privacy.model)
    assert type(model.data_preprocessor.anonymizer).__name__ == 'UNetAnonymizer'
    samples = [DataSample().set_gt_label([0, 5]), DataSample().set_gt_label([5])]
    batch = dict(inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                         for _ in range(2)], data_samples=samples)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss'])
    model.eval()
    with torch.no_grad():
        preds = model.val_step(copy.deepcopy(batch))
    assert preds[0].pred_score.shape == (privacy.model.head.num_classes, )
    evaluator = Evaluator(privacy.val_evaluator)
    evaluator.process(preds, batch)
    metrics = evaluator.evaluate(2)
    prefix = cfg.privacy.metric_key
    assert {f'{prefix}/cmap', f'{prefix}/f1'} <= set(metrics)
