# Remedy (b) of issue 12: an f_B ensemble (Wu et al. [41]): two ResNet-18 f_B with
# their own g; step 2 trains both, step 1 maximises the loss of the stronger one
# (EnsemblePrivacyHead, reduction='min'), and both are restarted every 50 iterations
# with a 10-iteration step-2 warm-up. The demo's stage 2 trained one f_B under other
# key names, so both members start untrained (until the first restart, step 1 sees
# two barely trained f_B).
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
_member = dict(
    type='SSLPrivacyHead',
    backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16),
    neck=dict(type='mmpretrain.NonLinearNeck', in_channels=128, hid_channels=128,
              out_channels=64, num_layers=2, with_avg_pool=True),
    loss=dict(type='NTXentLoss', temperature=0.1),
    frame_sampler=dict(mode='random'))
model = dict(privacy_head=dict(
    _delete_=True, type='EnsemblePrivacyHead', names=['a', 'b'], reduction='min',
    heads=[_member, _member]))
optim_wrapper = dict(privacy_restart_interval=50, privacy_restart_warmup=10)
