# Supervised adversarial baseline of Wu et al. [41] at paper scale, CROSS-dataset
# training (Sec. 4.2, the UCF101-VISPR protocol of Table 1): f_A and f_T learn
# from UCF101 clips (action labels), f_A and the budget model f_B from VISPR-1
# images (7 privacy attributes), in SPAct's stage-3 minimax loop. f_B is a
# supervised ResNet-50 multi-label classifier (SupervisedPrivacyHead): step 2
# trains it with BCE on f_A(VISPR images), step 1 trains f_A to maximise its
# entropy on f_A(VISPR images) (negative-entropy budget loss) while L_T keeps
# the action on the clips. Each clip is paired with one VISPR image
# (ActionPrivacyPairDataset; a new pairing each epoch).
# Start from SPAct's stage-2 f_A and f_T (the SSL f_B's weights do not fit the
# budget model, which starts fresh): pass the checkpoint on the command line,
#   python tools/train.py CONFIG --cfg-options model.init_cfg.checkpoint=<stage-2 final.pth>
# (default: the stage-3 base config's stage-2 work dir).
_base_ = ['../spact/spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py']


# VISPR-1 train split as the protocols' catalogue loads it (configs/_base_/datasets/
# vispr_vispr1_112x112.py with the images in RGB: f_A sees RGB clips (decord); VISPR's own
# base loads BGR for mmpretrain attackers, which convert in their data preprocessor).
# Restated, not inherited: two bases that both define train_dataloader cannot both be
# `_base_`; tests/test_configs checks that it equals the base's. Its RandomResizedCrop to
# 112 gives the fixed image size the batch needs.
vispr1_attributes = ('a17_color', 'a4_gender', 'a9_face_complete', 'a10_face_partial',
                     'a12_semi_nudity', 'a64_rel_personal', 'a65_rel_social')  # of [41]
vispr1_train = dict(
    type='VISPRDataset', data_root='data/vispr', ann_file='train2017.txt',
    attributes=vispr1_attributes,
    pipeline=[
        dict(type='LoadPrivacyImage', channel_order='rgb'),
        dict(type='mmpretrain.RandomResizedCrop', scale=112, crop_ratio_range=(0.36, 1.0)),
        dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='mmpretrain.PackInputs'),
    ])

model = dict(
    privacy_head=dict(
        _delete_=True,
        type='SupervisedPrivacyHead',
        num_attributes=7,  # len(vispr1_attributes)
        backbone=dict(type='mmpretrain.ResNet', depth=50),
        in_channels=2048,
        num_models=1,  # >1: ensemble of budget models ([41])
        restart_interval=None))  # e.g. 1000: "model restarting" of [41]
train_dataloader = dict(
    # tells the dataset the epoch: a new clip-image pairing every epoch
    sampler=dict(type='EpochPairingSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ActionPrivacyPairDataset',
        action={{_base_.train_dataloader.dataset}},
        privacy=vispr1_train,
        views=1,  # one VISPR image per clip for the supervised budget model
        seed=0))
# No th_Bmax stop rule: L_B of [41] (BCE in step 2, entropy in step 1) has no chance level
# to stop at.
default_hooks = dict(stop_rule=dict(threshold=None))
