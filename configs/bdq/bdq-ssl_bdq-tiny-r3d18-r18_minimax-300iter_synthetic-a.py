# BDQ encoder trained with SPAct's label-free objective, demo scale: BDQEncoder as
# f_A in SPAct's stage-3 minimax loop (Eq. 7-9) with the self-supervised privacy
# branch (SSLPrivacyHead: NT-Xent on two frames of each anonymized clip). No
# privacy label is used. Step 1 updates f_A on L_T - w * L_B, step 2 updates f_T
# on L_T and f_B on L_B, as for SPAct.
# No stage 1/2 (BDQ needs no identity initialisation; SPAct's stage-2 f_T and f_B
# were trained on the UNet's near-raw output): f_T and f_B start from scratch,
# hence 300 iterations and no th_Bmax stop rule (a fresh f_B is at chance level,
# where the rule would stop at once).
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
load_from = None
bdq = dict(type='BDQEncoder', sigma=3.0, kernel_size=5, learn_sigma=True, bits=4,
           temperature=5.0, relaxation='sigmoid', normalize='clip', first_frame='repeat')
model = dict(data_preprocessor=dict(anonymizer=dict(_delete_=True, **bdq)),
             init_cfg=None)  # not from SPAct's stage 2
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100)
# BDQ's 1 + 15 parameters get 10x the learning rate (see the bdq-entropy config).
optim_wrapper = dict(anonymizer=dict(
    paramwise_cfg=dict(custom_keys={'data_preprocessor__anonymizer': dict(lr_mult=10.)})))
default_hooks = dict(stop_rule=dict(threshold=None))  # no th_Bmax stop rule
