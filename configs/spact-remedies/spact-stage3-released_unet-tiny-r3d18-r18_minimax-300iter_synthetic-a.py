# Item 2 of issue 12: the authors' released configuration (DAVEISHAN/SPAct,
# anonymization_training/) at demo scale, beside the demo's own (../spact/):
# - Adam at 1e-4 for all three branches, no schedule, no weight decay (the demo: 1e-3);
# - loss_fa = -loss_fb + ft_loss_weight * loss_ft with ft_loss_weight = 1, i.e. omega = 1
#   in L_T - omega L_B (the demo: 0.5);
# - steps 1 and 2 alternate 1:1 on consecutive batches;
# - the branches a step does not update run in eval mode (the released loop's eval());
# - the two SSL views are augmented before f_A (SSLViewAugmentation, as
#   vispr_ssl.augmentation); the same-dataset protocol has no VISPR, so the views are
#   two frames of one clip drawn by S_F (the cross-dataset configs pass image views);
# - no f_B restart and no th_Bmax stop rule (neither is in the released code).
# Not mirrored (data and CPU scale): ResNet-50 f_B with a 2048-2048-128 MLP (here the
# demo's 16-channel ResNet-18 and 128-128-64, trained by the demo's stage 2), batch
# 24/64 (here 16), 16 frames at skip 2 of 128x128 (here 8 at skip 2 of 32x32).
# 300 iterations: at a 10x smaller rate than the demo's, 150 barely move f_A.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=300, val_interval=100)
model = dict(data_preprocessor=dict(
    type='MinimaxAnonymizerDataPreprocessor',
    ssl_views=dict(frame_sampler=dict(mode='random'), augment=dict(type='SSLViewAugmentation'))))
optim_wrapper = dict(
    ssl_weight=1.0,
    anonymizer_steps=1,
    adversary_steps=1,
    frozen_branches_eval=True,
    anonymizer=dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0)),
    recognizer=dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0)),
    privacy=dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0)))
