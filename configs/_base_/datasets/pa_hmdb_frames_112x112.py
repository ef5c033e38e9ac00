# PA-HMDB frames with frame-level privacy labels (spact_mm.PAHMDBDataset,
# frame_level=True): the privacy test set X_privacy^e of the HMDB51-VISPR -> PA-HMDB
# protocol (Table 1). Each sample is one annotated frame, decoded with decord and
# turned into an image (ClipToImage) for a 2D mmpretrain attacker trained on
# vispr_pa-hmdb-attributes_112x112.py (same five classes, same order).
# Data layout and preparation: tools/data/pa_hmdb/README.md
dataset_type = 'PAHMDBDataset'
ann_file = 'data/pa_hmdb/PrivacyAttributes'
video_prefix = dict(video='data/hmdb51/videos')
img_size = 112
frame_interval = 1  # every annotated frame, as Wu et al.; raise it to subsample

test_pipeline = [
    dict(type='DecordInit'),
    dict(type='DecordDecode'),  # decodes the entry's frame_inds (no SampleFrames)
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs'),
]
test_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, data_prefix=video_prefix,
                 frame_level=True, frame_interval=frame_interval, pipeline=test_pipeline,
                 test_mode=True))
val_dataloader = test_dataloader
test_evaluator = [
    dict(type='mmpretrain.AveragePrecision', average='macro'),
    dict(type='mmpretrain.MultiLabelMetric', items=('f1-score', ), average='macro'),
]
val_evaluator = test_evaluator
