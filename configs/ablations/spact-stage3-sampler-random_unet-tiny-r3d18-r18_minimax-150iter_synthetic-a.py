# Ablation, Table 4 "no constraint" (the default): any two distinct frames.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(frame_sampler=dict(mode='random')))
