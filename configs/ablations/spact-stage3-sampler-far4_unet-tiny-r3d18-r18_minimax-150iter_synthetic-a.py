# Ablation, Table 4 ">64 frames", scaled to the demo's 16-frame videos: the
# paper's distance cannot exist here, so "far" is more than 4 clip frames
# (> 8 source frames) apart, the farthest third of the pairs.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(frame_sampler=dict(mode='far', distance=4)))
