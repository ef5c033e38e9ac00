# UCF101 split 1 as 16-frame 112x112 clips (the paper's f_T input size): the clip
# pipelines every video base shares. Its dataloaders read mmaction2-style lists
# (data/ucf101/ucf101_{train,val}_split_1_videos.txt, from mmaction2's build_file_list.py),
# for users who have them; our configs read the official split files instead
# (ucf101_official-split1_16x112x112.py, the layout of tools/data/ucf101/README.md).
# RobustVideoDataset: mmaction2's VideoDataset with the bad-input policy
# (docs/reliability.md); labels outside [0, num_classes) are bad input.
dataset_type = 'RobustVideoDataset'
action_num_classes = 101
data_root = 'data/ucf101/videos'
split = 1
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='Resize', scale=(112, 112), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=2, num_clips=10, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), pipeline=train_pipeline,
                 num_classes=action_num_classes))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=data_root), pipeline=val_pipeline, test_mode=True,
                 num_classes=action_num_classes))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=data_root), pipeline=test_pipeline, test_mode=True,
                 num_classes=action_num_classes))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
# mmaction2's `--auto-scale-lr`: the learning rates are tuned for 8 clips per step (all
# devices together); lr is scaled by (devices x batch_size) / base_batch_size.
auto_scale_lr = dict(enable=False, base_batch_size=8)
