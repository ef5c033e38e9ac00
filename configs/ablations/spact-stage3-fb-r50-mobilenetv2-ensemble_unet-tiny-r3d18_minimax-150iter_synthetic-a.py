# Ablation, Table 6 "R50 + MV1": two privacy branches, a ResNet-50 f_B (16 base
# channels at demo scale) and a MobileNetV2 f_B (width 0.25; the paper's
# MobileNetV1 is not in mmpretrain), each with its own g and NT-Xent;
# L_B = the mean of their losses (each also logged as ssl_r50, ssl_mv2).
# Stage 2 trained one ResNet-18 f_B, so both members start from scratch.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(
    _delete_=True,
    type='EnsemblePrivacyHead',
    names=['r50', 'mv2'],
    heads=[
        dict(type='SSLPrivacyHead',
             backbone=dict(type='mmpretrain.ResNet', depth=50, base_channels=16,
                           stem_channels=16),
             neck=dict(type='mmpretrain.NonLinearNeck', in_channels=512, hid_channels=128,
                       out_channels=64, num_layers=2, with_avg_pool=True),
             loss=dict(type='NTXentLoss', temperature=0.1),
             frame_sampler=dict(mode='random')),
        dict(type='SSLPrivacyHead',
             backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=0.25),
             neck=dict(type='mmpretrain.NonLinearNeck', in_channels=1280, hid_channels=128,
                       out_channels=64, num_layers=2, with_avg_pool=True),
             loss=dict(type='NTXentLoss', temperature=0.1),
             frame_sampler=dict(mode='random')),
    ]))
