# Remedies 3a + 3b + 3e with the released code's omega: the two-sided temporal-consistency
# penalty closes the flicker shortcut, f_B restarts every 100 iterations (20 step-2-only
# warm-up iterations after each) so that f_A must beat a fresh adversary again and again,
# omega = 1 (released: loss_fa = -loss_fb + loss_ft), and a 4x longer game (600 iterations,
# 300 f_A updates). Everything else is the demo's stage 3 (see the base).
_base_ = ['./spact-stage3-tc-sym_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=600, val_interval=150)
optim_wrapper = dict(ssl_weight=1.0, privacy_restart_interval=100, privacy_restart_warmup=20)
