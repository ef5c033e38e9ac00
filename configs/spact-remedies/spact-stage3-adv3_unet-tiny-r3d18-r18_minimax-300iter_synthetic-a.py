# Remedy (c), issue 12: three step-2 updates (f_T and f_B) per step-1 update (f_A),
# so that f_B is closer to a best response when f_A moves. 300 iterations keep the
# demo's 75 f_A updates.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=300, val_interval=100)
optim_wrapper = dict(anonymizer_steps=1, adversary_steps=3)
