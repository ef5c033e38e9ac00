# Ablation, Table 5 "MoCo": L_B is MoCo's InfoNCE (momentum key encoder, queue
# of K negatives) instead of NT-Xent. f_B (ResNet-18) and g load from the
# stage-2 checkpoint (trained with NT-Xent); the key encoder has no stage-2
# weights, so it copies f_B and g at the first iteration; the queue starts random.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
queue_len = 128  # K: 8 batches of 16 clips (the train split has 96 videos)
model = dict(privacy_head=dict(
    _delete_=True,
    type='MoCoPrivacyHead',
    backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16),
    neck=dict(type='mmpretrain.NonLinearNeck', in_channels=128, hid_channels=128,
              out_channels=64, num_layers=2, with_avg_pool=True),
    # same tau as the NT-Xent default, so only the objective changes
    head=dict(type='mmpretrain.ContrastiveHead', loss=dict(type='mmpretrain.CrossEntropyLoss'),
              temperature=0.1),
    queue_len=queue_len,
    feat_dim=64,
    # mmengine EMA convention (1 - m): m = 0.99, not MoCo's 0.999, because the
    # demo has only ~75 step-2 updates for the key encoder to follow f_B
    momentum=0.01,
    frame_sampler=dict(mode='random')))
th_Bmax = 4.7  # InfoNCE at chance is log(K + 1) = 4.86 for K = 128
default_hooks = dict(stop_rule=dict(threshold=th_Bmax))  # this loss's th_Bmax
