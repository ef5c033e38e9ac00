# Ablation, Table 6: f_B = MobileNet (mmpretrain MobileNetV2 at width 0.25;
# the paper used MobileNetV1, which mmpretrain does not ship).
# Stage 2 trained a ResNet-18 f_B, so this f_B starts from scratch.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(
    backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=0.25, _delete_=True),
    neck=dict(in_channels=1280)))
