# Ablation, Table 6: f_B = ResNet-50 (16 base channels at demo scale).
# Stage 2 trained a ResNet-18 f_B, so this f_B starts from scratch.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(
    backbone=dict(type='mmpretrain.ResNet', depth=50, base_channels=16, stem_channels=16,
                  _delete_=True),
    neck=dict(in_channels=512)))
