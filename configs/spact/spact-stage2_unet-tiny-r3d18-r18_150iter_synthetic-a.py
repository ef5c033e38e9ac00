# SPAct stage 2 (Sec. 3.3, Eq. 7 and 8), demo scale: train f_T and f_B on the
# output of the frozen stage-1 f_A.
_base_ = [
    '../_base_/models/spact_tiny.py', '../_base_/datasets/synthetic_actions_a_8x32x32.py',
    '../_base_/schedules/spact_stage2_adam.py', '../_base_/default_runtime.py'
]
stage1_work_dir = 'work_dirs/spact-stage1_unet-tiny_200iter_synthetic-a'
model = dict(data_preprocessor=dict(checkpoint=f'{stage1_work_dir}/final.pth', frozen=True))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=150, val_interval=50)
optim_wrapper = dict(
    recognizer=dict(optimizer=dict(lr=1e-3)),  # alpha_T
    privacy=dict(optimizer=dict(lr=1e-3)))  # alpha_B
# Distributed runs (tools/dist_train.sh): DDP that tolerates the branches frozen per
# minimax step (find_unused_parameters=True); ignored by single-process runs.
model_wrapper_cfg = dict(type='SPActDistributedDataParallel')
