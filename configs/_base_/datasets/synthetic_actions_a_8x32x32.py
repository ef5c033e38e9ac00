# Synthetic privacy-action videos (tools/data/synthetic), action set A, as
# 8-frame 32x32 clips. Generate with:
#   python tools/data/synthetic/generate.py --root data/synthetic
# RobustVideoDataset (issue 6): a missing, empty, unreadable or too-short video or a
# malformed annotation line is a clear error naming the file and line
# (on_bad_input='skip' logs, counts and skips instead).
dataset_type = 'RobustVideoDataset'
data_root = 'data/synthetic'
action_set = 'a'
ann_file_train = f'{data_root}/annotations/actions_{action_set}_train.txt'
ann_file_val = f'{data_root}/annotations/actions_{action_set}_val.txt'
clip_len = 8
frame_interval = 2
img_size = 32
# Labels outside [0, num_classes) are bad input (named error, or skipped with 'skip');
# the heads of the configs that use this file have as many classes.
action_num_classes = 4

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    # No flips: left/right motion is the label.
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

# InfiniteSampler (mmengine's advice for IterBasedTrainLoop): with a finite sampler the loop
# sleeps 2 s at every restart of the dataloader (mmengine's _InfiniteDataloaderIterator), and
# these training sets last 3-12 batches: a third of the demo's wall time was that sleep.
# An EpochBasedTrainLoop needs DefaultSampler here (an infinite sampler never ends an epoch).
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), pipeline=train_pipeline,
                 num_classes=action_num_classes))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=data_root), pipeline=val_pipeline, test_mode=True,
                 num_classes=action_num_classes))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
# mmaction2's `--auto-scale-lr`: the learning rates are tuned for 16 clips per step (all
# devices together); lr is scaled by (devices x batch_size) / base_batch_size.
auto_scale_lr = dict(enable=False, base_batch_size=16)
