# STPrivacy with a supervised multi-label privacy branch, as in the paper, stage 3, demo
# scale: the tubelet f_A in the minimax loop of configs/supervised (SupervisedPrivacyHead:
# step 2 trains f_B with BCE on the person attributes of the synthetic videos, step 1
# trains f_A to maximise the entropy of its predictions, with L_T and loss_keep). Starts
# from the STPrivacy stage 2 (its f_B is fresh: the SSL head's weights do not fit).
# Needs privacy labels (PrivacyVideoDataset). The adversarial loss of the paper is not
# public; the entropy budget loss of Wu et al. is our stand-in.
_base_ = ['../supervised/supervised-wu_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a-person.py',
          '../_base_/models/stprivacy_vit.py']
stage2_work_dir = 'work_dirs/stprivacy-stage2_vit-tiny-r3d18-r18_150iter_synthetic-a'
model = dict(init_cfg=dict(checkpoint=f'{stage2_work_dir}/final.pth'),
             data_preprocessor=dict(anonymizer={{_base_.stprivacy_tiny}}))
optim_wrapper = dict(anonymizer=dict(optimizer=dict(lr=1e-4)))
