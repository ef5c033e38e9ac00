# Remedy (e), issue 12: a longer game, 400 minimax iterations (200 f_A updates)
# instead of 150, with no stop rule.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=400, val_interval=100)
