# STPrivacy's label-free stage 3 with the kept-tubelet trust region (ours): the game of
# stprivacy-stage3-ssl (step 1: L_T - w L_B + loss_keep) plus
#     loss_fidelity = 10 * mean |f_A(X) - X| over the pixels of kept tubelets,
# started from stage 2b with the same term (stprivacy-stage2b-sparsify-fid). The privacy
# must then come from the drops and from changes to the kept tubelets that pay in the game,
# not from rewriting every kept pixel.
_base_ = ['./stprivacy-stage3-ssl_vit-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
stage2_work_dir = 'work_dirs/stprivacy-stage2b-sparsify-fid_vit-tiny-r3d18-r18_150iter_synthetic-a'
model = dict(init_cfg=dict(checkpoint=f'{stage2_work_dir}/final.pth'),
             data_preprocessor=dict(anonymizer=dict(fidelity_weight=10.0)))
