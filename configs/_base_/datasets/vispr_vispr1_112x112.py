# VISPR-1: VISPR images, multi-label over the 7 attributes of Wu et al. [41]
# (spact_mm.VISPRDataset, attributes=VISPR1_ATTRIBUTES), for the privacy attacker
# f'_B (an mmpretrain 2D classifier) of the UCF101-VISPR protocol (Table 1).
# Data layout and preparation: tools/data/vispr/README.md
#   data/vispr/images/{train,val,test}2017/*.jpg
#   data/vispr/annotations/{train,val,test}2017/*.json
#   data/vispr/{train,val,test}2017.txt, data/vispr/attributes.tsv
dataset_type = 'VISPRDataset'
data_root = 'data/vispr'
img_size = 112
attributes = ('a17_color', 'a4_gender', 'a9_face_complete', 'a10_face_partial',
              'a12_semi_nudity', 'a64_rel_personal', 'a65_rel_social')  # VISPR1_ATTRIBUTES

# mmpretrain transforms (the dataset builds its pipeline from mmpretrain's registry).
train_pipeline = [
    dict(type='LoadPrivacyImage'),  # grayscale, RGBA, 16-bit, CMYK -> 8-bit 3-channel (issue 6)
    dict(type='mmpretrain.RandomResizedCrop', scale=img_size, crop_ratio_range=(0.36, 1.0)),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='LoadPrivacyImage'),  # grayscale, RGBA, 16-bit, CMYK -> 8-bit 3-channel (issue 6)
    dict(type='mmpretrain.ResizeEdge', scale=img_size, edge='short'),
    dict(type='mmpretrain.CenterCrop', crop_size=img_size),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='train2017.txt',
                 attributes=attributes, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='val2017.txt',
                 attributes=attributes, pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='test2017.txt',
                 attributes=attributes, pipeline=test_pipeline, test_mode=True))
# Table 1's privacy figures: classwise mAP (cMAP) and classwise F1.
val_evaluator = [
    dict(type='mmpretrain.AveragePrecision', average='macro'),
    dict(type='mmpretrain.MultiLabelMetric', items=('f1-score', ), average='macro'),
]
test_evaluator = val_evaluator
