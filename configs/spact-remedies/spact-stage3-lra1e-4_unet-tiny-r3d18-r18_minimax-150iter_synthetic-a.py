# Remedy (d), issue 12: f_A learns 10x slower than f_T and f_B (alpha_A = 1e-4, the
# paper's rate; the demo uses 1e-3 for all three), so that f_B can follow f_A.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
optim_wrapper = dict(anonymizer=dict(optimizer=dict(lr=1e-4)))
