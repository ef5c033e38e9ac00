# P-HVU frames labelled with the clip's OBJECT tags (PHVUDataset,
# privacy_category='object'): the privacy attacker f'_B of the P-HVU protocols
# (Table 1 "Objects"; Table 2 trains on scenes and tests on objects). One random frame
# per clip in training, the middle frame in testing, as an image (ClipToImage) for a
# 2D mmpretrain multi-label classifier. Layout: tools/data/p_hvu/README.md
dataset_type = 'PHVUDataset'
data_root = 'data/hvu'
category_file = 'annotations/HVU_Tags_Categories_V1.0.csv'
privacy_category = 'object'
img_size = 112

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.36, 1.0)),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/HVU_Train_V1.0.csv', category_file=category_file,
                 privacy_category=privacy_category, data_prefix=dict(video='videos_train'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/HVU_Val_V1.0.csv', category_file=category_file,
                 privacy_category=privacy_category, data_prefix=dict(video='videos_val'),
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='mmpretrain.AveragePrecision', average='macro'),
    dict(type='mmpretrain.MultiLabelMetric', items=('f1-score', ), average='macro'),
]
test_evaluator = val_evaluator
