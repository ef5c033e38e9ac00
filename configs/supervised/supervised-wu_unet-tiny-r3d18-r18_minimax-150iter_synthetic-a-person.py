# Supervised adversarial baseline of Wu et al. [41] (Sec. 5.2), demo scale:
# the SPAct stage-3 minimax loop with f_B replaced by a supervised privacy
# classifier (SupervisedPrivacyHead): step 2 trains it with BCE on the person
# attributes of the synthetic videos, step 1 trains f_A to maximise the
# entropy of its predictions (negative-entropy budget loss) while keeping the
# action. Starts from SPAct's stage-2 f_A and f_T (its f_B is fresh: the SSL
# head's weights do not fit). Needs privacy labels: PrivacyVideoDataset +
# PackActionPrivacyInputs.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
person_attributes = ['skin_dark', 'shirt_red', 'hat', 'trousers_dark']
model = dict(
    privacy_head=dict(
        _delete_=True,
        type='SupervisedPrivacyHead',
        num_attributes=4,  # len(person_attributes)
        backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16),
        in_channels=128,
        num_models=1,  # >1: ensemble of budget models
        restart_interval=None,  # e.g. 50: re-initialise f_B every 50 step-2 updates
        num_frames=2))
_pipeline_train = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionPrivacyInputs')
]
_pipeline_val = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionPrivacyInputs')
]
train_dataloader = dict(dataset=dict(
    type='PrivacyVideoDataset', ann_file='data/synthetic/annotations/privacy_videos_a_train.json',
    attributes=person_attributes, pipeline=_pipeline_train))
val_dataloader = dict(dataset=dict(
    type='PrivacyVideoDataset', ann_file='data/synthetic/annotations/privacy_videos_a_val.json',
    attributes=person_attributes, pipeline=_pipeline_val))
test_dataloader = val_dataloader
# No th_Bmax stop rule: L_B of [41] (BCE in step 2, entropy in step 1) has no chance level
# to stop at.
default_hooks = dict(stop_rule=dict(threshold=None))
