# Ablation, Table 5 "NT-Xent" (the default SSL loss of Eq. 5), stated explicitly.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(loss=dict(type='NTXentLoss', temperature=0.1)))
