# Evaluation protocols of Sec. 4 at paper scale (Tables 1 and 2), run with
# tools/eval_protocol.py (see configs/protocols/README.md). The driver puts the frozen
# f_A* in front of each model below and trains it from scratch on f_A*(train set),
# then tests it on f_A*(test set):
# - fresh f'_T: mmaction2 R3D-18 (the f_T of configs/_base_/models/spact_r3d18_unet_r50.py:
#   ResNet3d depth 18 + I3DHead) on 16x112x112 clips, cross entropy (top-1) or BCE
#   (multi-label, P-HVU, classwise mAP);
# - fresh f'_B: mmpretrain ResNet-50 + multi-label linear head (BCE) on 112x112 images or
#   frames, classwise mAP and F1 (ClasswiseMultiLabelMetric);
# - `anonymizer`: architecture of the f_A checkpoints given to the driver, the paper UNet
#   of spact_r3d18_unet_r50.py.
# Children set the datasets (by name, from ./paper_datasets.py), the class counts and the number of
# iterations of each task.
#
# Schedules are OURS, not the paper's (its Supp. Sec. C with the exact values is not in our
# copy): Adam, lr 1e-4, constant (as the SPAct training configs), the dataset bases' batch
# sizes (8 clips, 32 images) on one GPU, iteration-based (the driver needs `max_iters`),
# sized by children to about N epochs of their training set (the `adam-<N>e` of their
# names). f'_T and f'_B start from random weights; to start f'_B from ImageNet (as is usual
# for VISPR attackers), add e.g.
#   --cfg-options privacy.model.backbone.init_cfg.type=Pretrained \
#                 privacy.model.backbone.init_cfg.checkpoint=torchvision://resnet50
# and use the same initialisation for every method of a table.
# The models are those of the SPAct paper-scale model base (inherited, not redeclared);
# its f_A (`anonymizer`: UNet, 64 channels, 5 stages) is the architecture of the f_A
# checkpoints passed to the driver.
_base_ = ['../default_runtime.py', './paper_datasets.py', '../models/spact_r3d18_unet_r50.py']
model = None  # a protocol trains the fresh models `action` and `privacy`, not this one
protocol = dict(name='same-dataset', dataset=None, action_metric='top1')
default_hooks = dict(logger=dict(type='LoggerHook', interval=50, ignore_last=False))

# ---------------------------------------------------------------- f'_T (action)
action = dict(
    model=dict(
        type='Recognizer3D',
        backbone={{_base_.model.backbone}},  # R3D-18, 64 base channels, random init
        cls_head={{_base_.model.cls_head}},  # I3DHead; children set num_classes
        data_preprocessor={{_base_.data_preprocessor.preprocessor}}),
    val_evaluator=dict(type='AccMetric'),
    train_cfg=dict(type='IterBasedTrainLoop', max_iters=None),  # set by children
    val_cfg=dict(type='ValLoop'),
    optim_wrapper=dict(type='GuardedOptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),
    param_scheduler=[],
    metric_key='acc/top1', metric_scale=100., figure='action_top1')

# --------------------------------------------------------------- f'_B (privacy)
privacy = dict(
    model=dict(
        type='ImageClassifier',
        _scope_='mmpretrain',  # sub-modules are mmpretrain's (ResNet, heads, losses)
        backbone=dict(type='ResNet', depth=50),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='MultiLabelLinearClsHead', num_classes=None, in_channels=2048,
                  loss=dict(type='CrossEntropyLoss', use_sigmoid=True)),  # BCE
        # VISPR images (loaded RGB, see paper_datasets.py) and decord frames are both RGB
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', to_rgb=False,
                               mean={{_base_.img_norm.mean}}, std={{_base_.img_norm.std}})),
    # cMAP (%) and classwise F1 of Sec. 4.1, read by the driver as privacy/cmap, privacy/f1
    val_evaluator=dict(type='ClasswiseMultiLabelMetric', prefix='privacy'),
    train_cfg=dict(type='IterBasedTrainLoop', max_iters=None),  # set by children
    val_cfg=dict(type='ValLoop'),
    optim_wrapper=dict(type='GuardedOptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),
    param_scheduler=[],
    metric_key='privacy')
# Protocol runs are seeded (default_runtime leaves `randomness` to mmaction2's --seed).
randomness = dict(seed=0, deterministic=False)
