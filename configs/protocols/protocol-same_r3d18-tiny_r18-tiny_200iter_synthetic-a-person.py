# Same-dataset protocol (Sec. 4.1) on the synthetic dataset: f'_T on action
# set A videos; f'_B on single frames of the SAME videos, person attributes
# (the known privacy group, the one the supervised method [41] trains on).
_base_ = ['../_base_/protocols/synthetic_r3d18-tiny_r18-tiny_200iter.py']
protocol = dict(name='same-dataset', dataset='synthetic-a/person')
frame_pipeline_train = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs')
]
frame_pipeline_test = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs')
]
privacy = dict(
    model=dict(data_preprocessor=dict(to_rgb=False)),  # decord frames are RGB already
    train_dataloader=dict(
        batch_size=16,
        dataset=dict(type='PrivacyVideoDataset', _delete_=True,
                     ann_file='data/synthetic/annotations/privacy_videos_a_train.json',
                     data_prefix=dict(video='data/synthetic'),
                     attributes={{_base_.person_attributes}}, pipeline=frame_pipeline_train)),
    val_dataloader=dict(
        batch_size=16,
        dataset=dict(type='PrivacyVideoDataset', _delete_=True,
                     ann_file='data/synthetic/annotations/privacy_videos_a_val.json',
                     data_prefix=dict(video='data/synthetic'),
                     attributes={{_base_.person_attributes}}, pipeline=frame_pipeline_test,
                     test_mode=True)))
