# SPAct stage 1 at paper scale: UNet f_A to the identity on UCF101 frames
# (Eq. 4), until validation L1 <= th_A0 (Eq. 6). Adam 1e-4.
_base_ = [
    '../_base_/models/spact_r3d18_unet_r50.py',
    '../_base_/datasets/ucf101_official-split1_16x112x112.py',  # the official split files
    '../_base_/default_runtime.py'
]
th_A0 = 0.01
model = dict(_delete_=True, type='AnonymizerReconstructor',
             data_preprocessor={{_base_.data_preprocessor}})
val_evaluator = dict(type='ReconstructionMetric')
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# GuardedOptimWrapper: a NaN/inf loss or BN statistic skips the step (docs/reliability.md)
optim_wrapper = dict(type='GuardedOptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = []
# Named `default_hooks` entries (custom_hooks stay those of default_runtime.py):
default_hooks = dict(
    checkpoint=dict(interval=1, by_epoch=True),
    # raw vs anonymized frames of fixed val clips at every validation (vis backends)
    anonymization_grid=dict(type='AnonymizationVisualizationHook'),
    # mmengine's EarlyStoppingHook implements the th_A0 rule of Eq. 6.
    stop_rule=dict(type='EarlyStoppingHook', monitor='recon/l1', rule='less',
                   stopping_threshold=th_A0, patience=10**9))
log_processor = dict(by_epoch=True)
