# Evaluation protocol (Sec. 4) on the synthetic dataset, CPU scale: fresh
# f'_T = R3D-18 at 16 base channels on 8x32x32 clips, fresh f'_B = 2D
# ResNet-18 at 16 base channels on 32x32 frames/images (multi-label, BCE),
# each trained 200 iterations with Adam on f_A*(train) and tested on
# f_A*(test). Run with tools/eval_protocol.py (see docs/results.md).
# Training loaders use InfiniteSampler (mmengine's advice for IterBasedTrainLoop): with a
# finite sampler the loop sleeps 2 s at every restart of the dataloader, and these training
# sets last a few batches. An EpochBasedTrainLoop needs DefaultSampler instead.
# Children choose the action set and the privacy data / attributes.
# f'_T and f_A are the demo model's (configs/_base_/models/spact_tiny.py, inherited):
# its `anonymizer` (UNet, 16 channels, 3 stages) is the architecture of the f_A
# checkpoints passed to the driver; its R3D-18 and I3DHead are f'_T.
_base_ = ['../default_runtime.py', '../models/spact_tiny.py']
model = None  # a protocol trains the fresh models `action` and `privacy`, not this one
data_root = 'data/synthetic'
person_attributes = ['skin_dark', 'shirt_red', 'hat', 'trousers_dark']
scene_attributes = ['outdoor', 'tree', 'car', 'lamp']
protocol = dict(name='same-dataset', dataset='synthetic', action_metric='top1')
default_hooks = dict(logger=dict(type='LoggerHook', interval=50, ignore_last=False))

# ---------------------------------------------------------------- f'_T (action)
clip_pipeline_train = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),  # no flips: left/right is the label
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
clip_pipeline_test = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
action = dict(
    model=dict(
        type='Recognizer3D',
        backbone={{_base_.model.backbone}},  # R3D-18 at 16 base channels
        cls_head={{_base_.model.cls_head}},  # I3DHead, 4 classes
        data_preprocessor={{_base_.data_preprocessor.preprocessor}}),
    train_dataloader=dict(
        batch_size=16, num_workers=2, persistent_workers=True,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(type='PrivacyVideoDataset',
                     ann_file=f'{data_root}/annotations/privacy_videos_a_train.json',
                     data_prefix=dict(video=data_root), pipeline=clip_pipeline_train,
                     num_classes=4)),  # the head's: labels outside are bad input
    val_dataloader=dict(
        batch_size=16, num_workers=2, persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PrivacyVideoDataset',
                     ann_file=f'{data_root}/annotations/privacy_videos_a_val.json',
                     data_prefix=dict(video=data_root), pipeline=clip_pipeline_test, num_classes=4,
                     test_mode=True)),
    val_evaluator=dict(type='AccMetric'),
    train_cfg=dict(type='IterBasedTrainLoop', max_iters=200),
    val_cfg=dict(type='ValLoop'),
    optim_wrapper=dict(type='GuardedOptimWrapper', optimizer=dict(type='Adam', lr=1e-3)),
    param_scheduler=[],
    metric_key='acc/top1', metric_scale=100., figure='action_top1')

# --------------------------------------------------------------- f'_B (privacy)
image_pipeline = [
    dict(type='LoadPrivacyImage'),  # grayscale, RGBA, 16-bit, CMYK -> 8-bit 3-channel (issue 6)
    dict(type='mmpretrain.Resize', scale=(32, 32)),
    dict(type='mmpretrain.PackInputs')
]
privacy = dict(
    model=dict(
        type='ImageClassifier',
        _scope_='mmpretrain',  # sub-modules are mmpretrain's (ResNet, heads, losses)
        backbone=dict(type='ResNet', depth=18, base_channels=16, stem_channels=16),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='MultiLabelLinearClsHead', num_classes=4, in_channels=128,
                  loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),  # BCE
        # images are loaded as BGR: to_rgb so that f_A sees RGB, as on videos
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', to_rgb=True,
                               mean={{_base_.img_norm.mean}}, std={{_base_.img_norm.std}})),
    train_dataloader=dict(
        batch_size=32, num_workers=2, persistent_workers=True,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(type='MultiLabelSubsetDataset', data_root=data_root,
                     ann_file='annotations/privacy_images_train.json',
                     attributes=person_attributes, pipeline=image_pipeline)),
    val_dataloader=dict(
        batch_size=32, num_workers=2, persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='MultiLabelSubsetDataset', data_root=data_root,
                     ann_file='annotations/privacy_images_val.json',
                     attributes=person_attributes, pipeline=image_pipeline, test_mode=True)),
    val_evaluator=dict(type='ClasswiseMultiLabelMetric', prefix='privacy'),
    train_cfg=dict(type='IterBasedTrainLoop', max_iters=200),
    val_cfg=dict(type='ValLoop'),
    optim_wrapper=dict(type='GuardedOptimWrapper', optimizer=dict(type='Adam', lr=1e-3)),
    param_scheduler=[],
    metric_key='privacy')
# Protocol runs are seeded (default_runtime leaves `randomness` to mmaction2's --seed).
randomness = dict(seed=0, deterministic=False)
