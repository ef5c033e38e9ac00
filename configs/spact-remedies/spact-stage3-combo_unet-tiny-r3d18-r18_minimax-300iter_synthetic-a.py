# Remedies of issue 12 combined: SSL views augmented before f_A (item 1), the
# two-sided temporal-consistency constraint at lambda = 50 (3a), f_B restarted every
# 50 iterations with a 10-iteration step-2 warm-up (3b), and a longer game of 300
# iterations (3e).
_base_ = ['./spact-stage3-tc-sym_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=300, val_interval=100)
model = dict(data_preprocessor=dict(
    ssl_views=dict(frame_sampler=dict(mode='random'), augment=dict(type='SSLViewAugmentation'))))
optim_wrapper = dict(privacy_restart_interval=50, privacy_restart_warmup=10)
