# Remedies 3a + 3c + 3e with the released code's omega: the two-sided temporal-consistency
# penalty closes the flicker shortcut, three step-2 updates per step-1 update keep f_B near
# its best response (f_A's gradient of -L_B then points at information f_B really uses),
# omega = 1 (released), 600 iterations (150 f_A updates). Everything else is the demo's
# stage 3 (see the base).
_base_ = ['./spact-stage3-tc-sym_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=600, val_interval=150)
optim_wrapper = dict(ssl_weight=1.0, anonymizer_steps=1, adversary_steps=3)
