# SPAct stage 2 (Sec. 3.3, Eq. 7 and 8), demo scale: train f_T and f_B on the
# output of the frozen stage-1 f_A.
_base_ = [
    '../_base_/models/spact_tiny.py', '../_base_/datasets/synthetic_actions_a_8x32x32.py',
    '../_base_/default_runtime.py'
]
stage1_work_dir = 'work_dirs/spact-stage1_unet-tiny_200iter_synthetic-a'
model = dict(data_preprocessor=dict(checkpoint=f'{stage1_work_dir}/final.pth', frozen=True))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=150, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Only step 2 of the minimax alternation: no anonymizer optimiser.
optim_wrapper = dict(
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    anonymizer_steps=0,
    adversary_steps=1,
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)),  # alpha_T
    privacy=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))  # alpha_B
param_scheduler = []
