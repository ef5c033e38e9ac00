# SPAct stage 3 at paper scale: minimax alternation (Eq. 7-9) from stage 2's
# f_A, f_T, f_B; stops when L_B >= th_Bmax. Adam 1e-4 per branch.
_base_ = [
    '../_base_/models/spact_r3d18_unet_r50.py',
    '../_base_/datasets/ucf101_official-split1_16x112x112.py',  # the official split files
    '../_base_/schedules/spact_stage3_minimax_adam.py', '../_base_/default_runtime.py'
]
stage2_work_dir = 'work_dirs/spact-stage2_unet-r3d18-r50_adam-100e_ucf101-16x112x112'
stage2_checkpoint = f'{stage2_work_dir}/final.pth'
# Stage hand-over through model initialisation (mmengine's Pretrained, after each branch's
# own init, before any resume), not `load_from`: mmaction2's `tools/train.py --resume`
# clears load_from, and stage 3 would then start from random weights on a fresh work dir.
# Another stage-2 run: --cfg-options model.init_cfg.checkpoint=<its final.pth>.
model = dict(init_cfg=dict(type='Pretrained', checkpoint=stage2_checkpoint))
th_Bmax = 2.6  # NT-Xent at chance is log(2N - 1) = 2.71 for N = 8 clips per GPU
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
# Hooks of the minimax stage as named `default_hooks` entries, so that the configs built on
# this one change an entry by name (custom_hooks stay those of default_runtime.py):
default_hooks = dict(
    checkpoint=dict(interval=5, by_epoch=True),
    # raw vs anonymized frames of fixed val clips at every validation (vis backends)
    anonymization_grid=dict(type='AnonymizationVisualizationHook'),
    # the th_Bmax stop rule; `threshold=None` turns it off
    stop_rule=dict(type='SSLLossThresholdHook', threshold=th_Bmax, window=50))
log_processor = dict(by_epoch=True)
# Distributed runs (tools/dist_train.sh): DDP that tolerates the branches frozen per
# minimax step (find_unused_parameters=True); ignored by single-process runs.
model_wrapper_cfg = dict(type='SPActDistributedDataParallel')
