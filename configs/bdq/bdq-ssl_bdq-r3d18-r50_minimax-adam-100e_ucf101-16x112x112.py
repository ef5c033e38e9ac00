# BDQ encoder trained with SPAct's label-free objective at paper scale (GPUs):
# BDQEncoder as f_A, R3D-18 f_T and ResNet-50 f_B + g (SSLPrivacyHead, NT-Xent),
# SPAct's stage-3 minimax loop (Eq. 7-9) on UCF101 split 1, 16x112x112 clips.
# Privacy labels are not needed for training: the SSL branch learns on frames of the
# same anonymized UCF101 clips. (BDQ's own entropy objective needs privacy labels on
# the training *videos*: a cross-dataset set of still images such as VISPR is no use
# to a frame-difference f_A, which turns every still into a constant frame.)
# f_T and f_B start from scratch (or pass --cfg-options load_from=<a stage-2
# final.pth>: mmengine then loads f_T and f_B, and reports the UNet's keys as
# unexpected); no th_Bmax stop rule, since a fresh f_B starts at chance level.
_base_ = ['../spact/spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py']
load_from = None
bdq = dict(type='BDQEncoder', sigma=3.0, kernel_size=5, learn_sigma=True, bits=4,
           temperature=5.0, relaxation='sigmoid', normalize='clip', first_frame='repeat')
model = dict(data_preprocessor=dict(anonymizer=dict(_delete_=True, **bdq)),
             init_cfg=None)  # not from SPAct's stage 2
# BDQ's 1 + 15 parameters get 10x the learning rate (see the bdq-entropy config).
optim_wrapper = dict(anonymizer=dict(
    paramwise_cfg=dict(custom_keys={'data_preprocessor__anonymizer': dict(lr_mult=10.)})))
default_hooks = dict(stop_rule=dict(threshold=None))  # no th_Bmax stop rule
