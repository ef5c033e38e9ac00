# The motion-aware f_A (spact-stage3-motion) in the long game of spact-stage3-long-tc-restart:
# two-sided temporal consistency, f_B restarted every 100 iterations (20 warm-up), omega = 1,
# 600 iterations.
_base_ = ['./spact-stage3-motion_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=600, val_interval=150)
optim_wrapper = dict(ssl_weight=1.0, privacy_restart_interval=100, privacy_restart_warmup=20)
