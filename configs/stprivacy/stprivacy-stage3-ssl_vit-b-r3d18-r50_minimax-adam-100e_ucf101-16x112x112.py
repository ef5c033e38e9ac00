# STPrivacy, stage 3 with SPAct's self-supervised privacy branch (label-free, ours), paper
# scale: ViT-B tubelet f_A (392 tokens, keep_ratio 0.7), R3D-18 f_T, ResNet-50 SSL f_B, the
# minimax loop of SPAct plus the keep-ratio loss. GPU work.
_base_ = ['../spact/spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py',
          '../_base_/models/stprivacy_vit.py']
stage2_work_dir = 'work_dirs/stprivacy-stage2_vit-b-r3d18-r50_adam-100e_ucf101-16x112x112'
model = dict(init_cfg=dict(checkpoint=f'{stage2_work_dir}/final.pth'),
             data_preprocessor=dict(anonymizer={{_base_.stprivacy_vit_b}}))
