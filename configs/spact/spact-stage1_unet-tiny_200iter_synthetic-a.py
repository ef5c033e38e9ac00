# SPAct stage 1 (Sec. 3.3, Eq. 4 and 6), demo scale: train f_A to the identity
# with the L1 loss, stop once validation L1 <= th_A0.
_base_ = [
    '../_base_/models/spact_tiny.py', '../_base_/datasets/synthetic_actions_a_8x32x32.py',
    '../_base_/default_runtime.py'
]
th_A0 = 0.03  # mean |x - f_A(x)| per pixel, [0, 1] units
model = dict(_delete_=True, type='AnonymizerReconstructor',
             data_preprocessor={{_base_.data_preprocessor}})
# f_A sees every frame of a clip: 8 clips x 8 frames = 64 frames per batch.
train_dataloader = dict(batch_size=8)
auto_scale_lr = dict(base_batch_size=8)  # --auto-scale-lr: lr tuned for 8 clips
val_evaluator = dict(type='ReconstructionMetric')
test_evaluator = val_evaluator
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# GuardedOptimWrapper: a NaN/inf loss or BN statistic skips the step (docs/reliability.md)
optim_wrapper = dict(type='GuardedOptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = []
# Named `default_hooks` entries (custom_hooks stay those of default_runtime.py):
default_hooks = dict(
    # raw vs anonymized frames of fixed val clips at every validation (vis backends)
    anonymization_grid=dict(type='AnonymizationVisualizationHook'),
    # mmengine's EarlyStoppingHook implements the th_A0 rule of Eq. 6.
    stop_rule=dict(type='EarlyStoppingHook', monitor='recon/l1', rule='less',
                   stopping_threshold=th_A0, patience=10**9))
