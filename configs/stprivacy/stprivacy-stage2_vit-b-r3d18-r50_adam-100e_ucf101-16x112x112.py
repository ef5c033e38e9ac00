# STPrivacy, stage 2, paper scale: f_T (R3D-18) and f_B (SPAct's SSL head, ResNet-50) on the
# output of the frozen stage-1 ViT-B f_A at keep_ratio 0.7. GPU work.
_base_ = ['../spact/spact-stage2_unet-r3d18-r50_adam-100e_ucf101-16x112x112.py',
          '../_base_/models/stprivacy_vit.py']
stage1_work_dir = 'work_dirs/stprivacy-stage1_vit-b_adam-100e_ucf101-16x112x112'
model = dict(data_preprocessor=dict(anonymizer={{_base_.stprivacy_vit_b}},
                                    checkpoint=f'{stage1_work_dir}/final.pth'))
