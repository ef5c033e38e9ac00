# Remedy 7 (anchored start) in the 2400-iteration game of spact-stage3-motion-xlong (1200 f_A
# updates, f_B restarted every 100 iterations), which cut person cMAP by 25 % from the identity
# start (docs/results/screening_remedies.md item 8).
_base_ = ['./spact-stage3-anchored-long_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py']
train_cfg = dict(max_iters=2400, val_interval=600)
