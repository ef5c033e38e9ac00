# Remedy 7 (ours, anchored start) in the long game of spact-stage3-motion-long: the motion-
# aware f_A started at the motion-only anchor (its own stages 1-2), f_B restarted every 100
# iterations (20 warm-up), omega = 1, 600 iterations. The two-sided temporal-consistency
# penalty holds f_A's frame differences to the anchor's (reference=R), not to the raw clip's:
# the anchor's output has other motion than the input (a difference of frames), and the
# penalty still forbids the flicker shortcut (a still background stays mid-grey).
_base_ = ['./spact-stage3-motion-long_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py']
anchor = dict(type='MotionOnlyAnonymizer')
stage2_checkpoint = 'work_dirs/screen/train/anchored-stage2/final.pth'
model = dict(init_cfg=dict(checkpoint=stage2_checkpoint),
             data_preprocessor=dict(temporal_consistency=dict(reference=anchor)))
