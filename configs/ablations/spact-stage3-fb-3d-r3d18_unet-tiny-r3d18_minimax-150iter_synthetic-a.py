# Ablation, Table 3 last row "Spatio-Temporal": f_B is a 3D CNN (R3D-18, demo
# width) and the NT-Xent positives are two 4-frame sub-clips of the same
# anonymized 8-frame clip (distinct start frames drawn by S_F). Stage 2 trained
# a 2D f_B, so this f_B starts from scratch; g has the same shapes as stage 2's
# and loads its weights (trained on 2D features) from the stage-2 checkpoint.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(
    views='clips',
    clip_len=4,
    backbone=dict(
        _delete_=True, type='ResNet3d', depth=18, pretrained=None, pretrained2d=False,
        base_channels=16, conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
        inflate=(1, 1, 1, 1), norm_eval=False),
    # the head averages the 5-D features over T, H, W before g
    neck=dict(in_channels=128, with_avg_pool=False)))
