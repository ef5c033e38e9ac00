# Remedy 3e pushed further: the motion-aware long game of spact-stage3-motion-long, four
# times longer again (2400 iterations, 1200 f_A updates; f_B still restarted every 100
# iterations with 20 warm-up). The screening's clearest signal so far is game length
# (150 -> 600 iterations doubled the cut), so this measures whether the trend continues.
_base_ = ['./spact-stage3-motion-long_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py']
train_cfg = dict(max_iters=2400, val_interval=600)
