# Ablation, Table 5 "RotNet": L_B is the cross entropy of predicting which of
# 4 rotations (0/90/180/270 degrees) a frame went through, instead of NT-Xent.
# f_B (ResNet-18) loads from the stage-2 checkpoint; the 4-way rotation
# classifier starts from scratch (stage 2's projection head g is not used).
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(
    _delete_=True,
    type='RotNetPrivacyHead',
    backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16),
    in_channels=128,
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    loss=dict(type='mmpretrain.CrossEntropyLoss'),
    frame_sampler=dict(mode='random')))  # the first frame of each S_F pair is rotated
th_Bmax = 1.33  # rotation cross entropy at chance is log(4) = 1.386
default_hooks = dict(stop_rule=dict(threshold=th_Bmax))  # this loss's th_Bmax
