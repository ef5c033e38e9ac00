# SPAct stage 3 (Sec. 3.3, Eq. 7-9), demo scale: minimax alternation starting
# from stage 2's f_A, f_T and f_B; stops at max_iters or when L_B >= th_Bmax.
_base_ = [
    '../_base_/models/spact_tiny.py', '../_base_/datasets/synthetic_actions_a_8x32x32.py',
    '../_base_/schedules/spact_stage3_minimax_adam.py', '../_base_/default_runtime.py'
]
stage2_work_dir = 'work_dirs/spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a'
stage2_checkpoint = f'{stage2_work_dir}/final.pth'
# Stage hand-over through model initialisation (mmengine's Pretrained, after each branch's
# own init, before any resume), not `load_from`: mmaction2's `tools/train.py --resume`
# clears load_from, and stage 3 would then start from random weights on a fresh work dir.
# Another stage-2 run: --cfg-options model.init_cfg.checkpoint=<its final.pth>.
model = dict(init_cfg=dict(type='Pretrained', checkpoint=stage2_checkpoint))
th_Bmax = 3.3  # NT-Xent at chance (all similarities equal) is log(2N - 1) = 3.43, N = 16
train_cfg = dict(type='IterBasedTrainLoop', max_iters=150, val_interval=50)
optim_wrapper = dict(
    anonymizer=dict(optimizer=dict(lr=1e-3)),  # alpha_A
    recognizer=dict(optimizer=dict(lr=1e-3)),  # alpha_T
    privacy=dict(optimizer=dict(lr=1e-3)))  # alpha_B
# Hooks of the minimax stage as named `default_hooks` entries, so that the configs built on
# this one change an entry by name (a `custom_hooks` list would have to be restated whole;
# custom_hooks stay those of default_runtime.py: FinalCheckpointHook, ResumeStateHook):
default_hooks = dict(
    # raw vs anonymized frames of fixed val clips at every validation (vis backends)
    anonymization_grid=dict(type='AnonymizationVisualizationHook'),
    # the th_Bmax stop rule; `threshold=None` turns it off
    stop_rule=dict(type='SSLLossThresholdHook', threshold=th_Bmax, window=10))
# Distributed runs (tools/dist_train.sh): DDP that tolerates the branches frozen per
# minimax step (find_unused_parameters=True); ignored by single-process runs.
model_wrapper_cfg = dict(type='SPActDistributedDataParallel')
