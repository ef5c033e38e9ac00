# SPAct stage 2 at paper scale: R3D-18 f_T (Eq. 7) and ResNet-50 f_B (Eq. 8)
# on the frozen stage-1 f_A's output. Adam 1e-4 per branch.
_base_ = [
    '../_base_/models/spact_r3d18_unet_r50.py', '../_base_/datasets/ucf101_16x112x112.py',
    '../_base_/default_runtime.py'
]
stage1_work_dir = 'work_dirs/spact-stage1_unet_adam-100e_ucf101-16x112x112'
model = dict(data_preprocessor=dict(checkpoint=f'{stage1_work_dir}/final.pth', frozen=True))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    anonymizer_steps=0,
    adversary_steps=1,
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),
    privacy=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=5, by_epoch=True))
log_processor = dict(by_epoch=True)
