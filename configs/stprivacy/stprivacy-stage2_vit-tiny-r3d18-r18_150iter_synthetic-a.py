# STPrivacy, stage 2 (our design, after SPAct's Eq. 7-8), demo scale: f_T (R3D-18 tiny) and
# the privacy branch f_B learn on the output of the frozen stage-1 f_A, which in eval mode
# keeps the top half of the tubelets of every frame (keep_ratio 0.5; the sparsifier is
# still untrained here, stage 3 trains it).
_base_ = ['../spact/spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a.py',
          '../_base_/models/stprivacy_vit.py']
stage1_work_dir = 'work_dirs/stprivacy-stage1_vit-tiny_200iter_synthetic-a'
model = dict(data_preprocessor=dict(anonymizer={{_base_.stprivacy_tiny}},
                                    checkpoint=f'{stage1_work_dir}/final.pth'))
