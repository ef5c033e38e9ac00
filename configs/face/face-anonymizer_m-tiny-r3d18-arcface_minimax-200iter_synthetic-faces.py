# Learned face anonymization (Ren et al., ECCV 2018), demo scale, our own training design:
# the paper trained against a spatial action detector; we train against an mmaction2 action
# recognizer. Minimax through MinimaxOptimWrapper: step 1 updates the modifier M on
#   L_T - omega * L_D + l1_weight * |M(c) - c|_1
# (L_D through the identity head's gradient reversal, omega = ssl_weight), step 2 updates
# D (ArcFace identity loss on the modified faces) and f_T (action loss). All three start
# from scratch (M at the identity).
_base_ = [
    '../_base_/models/face_anonymizer_tiny.py', '../_base_/datasets/synthetic_faces_8x64x64.py',
    '../_base_/schedules/spact_stage3_minimax_adam.py', '../_base_/default_runtime.py'
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=100)
optim_wrapper = dict(
    ssl_weight=0.5,  # omega: weight of -L_D in M's objective
    anonymizer_steps=1,
    adversary_steps=2,
    anonymizer=dict(optimizer=dict(lr=1e-3)),
    recognizer=dict(optimizer=dict(lr=1e-3)),
    privacy=dict(optimizer=dict(lr=1e-3)))
default_hooks = dict(checkpoint=dict(interval=200))
