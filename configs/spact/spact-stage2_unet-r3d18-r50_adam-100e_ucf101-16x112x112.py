# SPAct stage 2 at paper scale: R3D-18 f_T (Eq. 7) and ResNet-50 f_B (Eq. 8)
# on the frozen stage-1 f_A's output. Adam 1e-4 per branch.
_base_ = [
    '../_base_/models/spact_r3d18_unet_r50.py',
    '../_base_/datasets/ucf101_official-split1_16x112x112.py',  # the official split files
    '../_base_/schedules/spact_stage2_adam.py', '../_base_/default_runtime.py'
]
stage1_work_dir = 'work_dirs/spact-stage1_unet_adam-100e_ucf101-16x112x112'
model = dict(data_preprocessor=dict(checkpoint=f'{stage1_work_dir}/final.pth', frozen=True))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5, by_epoch=True))
log_processor = dict(by_epoch=True)
# Distributed runs (tools/dist_train.sh): DDP that tolerates the branches frozen per
# minimax step (find_unused_parameters=True); ignored by single-process runs.
model_wrapper_cfg = dict(type='SPActDistributedDataParallel')
