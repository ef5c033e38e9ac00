# Remedy (b) of issue 12: f_B restarting (Wu et al. [41]). Every 50 iterations f_B
# (backbone and projection head) is re-initialised and its Adam state cleared; the
# next 10 iterations are step 2 only, so that f_A's next update faces a fresh f_B
# that has learnt from the current f_A's output, not the one f_B it co-adapted with.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
optim_wrapper = dict(privacy_restart_interval=50, privacy_restart_warmup=10)
