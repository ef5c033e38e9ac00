# Face-centric synthetic benchmark (learned face anonymization), 8-frame 64x64 clips: one
# person per clip, identity in the face only, 4 actions (wave, walk_left, walk_right, nod),
# 24 identities, ground-truth face boxes and identities in the annotations. Generate with:
#   python tools/data/synthetic/generate_faces.py --root data/synthetic-faces
# PackFaceInputs packs the face boxes (rescaled to the decoded clip) and the identity.
dataset_type = 'PrivacyVideoDataset'
data_root = 'data/synthetic-faces'
ann_file_train = f'{data_root}/annotations/face_videos_train.json'
ann_file_val = f'{data_root}/annotations/face_videos_val.json'
clip_len = 8
frame_interval = 2
img_size = 64
action_num_classes = 4
face_num_identities = 24

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    # No flips or crops: left/right motion is the label, and the face boxes are only rescaled.
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackFaceInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackFaceInputs')
]
test_pipeline = val_pipeline

# InfiniteSampler, not DefaultSampler: why is in synthetic_actions_a_8x32x32.py.
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train, data_prefix=dict(video=data_root),
                 pipeline=train_pipeline, num_classes=action_num_classes))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val, data_prefix=dict(video=data_root),
                 pipeline=val_pipeline, test_mode=True, num_classes=action_num_classes))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
auto_scale_lr = dict(enable=False, base_batch_size=8)
