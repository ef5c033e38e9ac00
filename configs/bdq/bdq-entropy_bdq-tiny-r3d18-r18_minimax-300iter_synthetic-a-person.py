# BDQ (Kumawat & Nagahara, ECCV 2022) with its own objective, demo scale: the BDQ
# encoder (blur -> frame difference -> learnable 4-bit quantizer, BDQEncoder) as f_A,
# a tiny R3D-18 f_T on its output and a tiny 2D ResNet-18 privacy classifier f_B
# (BDQPrivacyHead) on one random frame of each encoded clip. Privacy labels: the
# person attributes of the synthetic videos (PrivacyVideoDataset +
# PackActionPrivacyInputs, from the same-dataset supervised config this inherits).
#
# The released training step, in MinimaxOptimWrapper's terms:
#   step 1 (`anonymizer` branch = f_A AND f_T, one optimiser as released):
#       minimise L_T - 2 H(f_B), H the entropy of f_B's predictions, reversed
#       through the head's GradientReversal layer (ssl_weight = 1); the factor 2
#       is L_T's loss_weight 0.5 (0.5 L_T - H has the direction of L_T - 2 H);
#   step 2 (`privacy` branch = f_B): BCE on the privacy labels.
# No stage 1/2: every network starts from scratch (BDQ's parameters at the
# released constants: sigma 3, uniform levels), hence 300 iterations.
_base_ = ['../supervised/supervised-wu_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a-person.py']
load_from = None
bdq = dict(type='BDQEncoder', sigma=3.0, kernel_size=5, learn_sigma=True, bits=4,
           temperature=5.0, relaxation='sigmoid', normalize='clip', first_frame='repeat')
model = dict(
    init_cfg=None,  # not from SPAct's stage 2
    data_preprocessor=dict(anonymizer=dict(_delete_=True, **bdq)),
    cls_head=dict(loss_cls=dict(type='CrossEntropyLoss', loss_weight=0.5)),
    privacy_head=dict(
        type='BDQPrivacyHead',
        label_type='multi_label',  # 'single_label' for one class per sample (BDQ's actor id)
        frame_sampling='random',
        num_frames=1))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100)
# BDQ has 1 + 15 parameters on scales of pixels and quantization steps: with Adam
# (per-parameter steps of about lr) they get 10x the network's learning rate.
_bdq_lr = dict(custom_keys={'data_preprocessor__anonymizer': dict(lr_mult=10.)})
optim_wrapper = dict(
    _delete_=True,
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    ssl_weight=1.0,
    anonymizer_steps=1,
    adversary_steps=1,
    branch_modules=dict(anonymizer=('data_preprocessor.anonymizer', 'backbone', 'neck',
                                    'cls_head'),
                        recognizer=()),
    anonymizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3),
                    paramwise_cfg=_bdq_lr),
    privacy=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
# No th_Bmax stop rule (inherited: stop_rule threshold=None).
