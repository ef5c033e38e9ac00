# STPrivacy, stage 1 (identity, after SPAct's Eq. 4), paper scale: ViT-B tubelet f_A on
# UCF101 16x112x112 clips (392 tokens of 2x16x16), every tubelet kept. GPU work.
_base_ = ['../spact/spact-stage1_unet_adam-100e_ucf101-16x112x112.py',
          '../_base_/models/stprivacy_vit.py']
model = dict(data_preprocessor=dict(anonymizer={{_base_.stprivacy_vit_b_identity}}))
