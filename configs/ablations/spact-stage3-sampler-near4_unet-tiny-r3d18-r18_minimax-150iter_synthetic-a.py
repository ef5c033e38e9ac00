# Ablation, Table 4 "<8 frames": positive frames closer than 4 clip frames,
# i.e. < 8 frames of the source video (clips sample every 2nd frame).
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(frame_sampler=dict(mode='near', distance=4)))
