# Remedy 5 (ours): an f_A that sees motion. MotionUNetAnonymizer (the tiny UNet fed each
# frame and its temporal difference) can tell what moves from what stays, so the minimax
# game can remove static appearance (scene, clothing) and keep the motion that carries the
# action; the motion-only baseline shows how much that removes (docs/results.md). With the
# two-sided temporal-consistency penalty (remedy 3a), so f_A cannot add motion (the
# flicker shortcut). Started from the motion f_A's own stages 1 and 2.
_base_ = ['./spact-stage3-tc-sym_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
motion_anonymizer = dict(type='MotionUNetAnonymizer', base_channels=16, num_stages=3)
stage2_checkpoint = 'work_dirs/screen/train/motion-stage2/final.pth'
model = dict(init_cfg=dict(checkpoint=stage2_checkpoint),
             data_preprocessor=dict(anonymizer=dict(_delete_=True, **motion_anonymizer)))
