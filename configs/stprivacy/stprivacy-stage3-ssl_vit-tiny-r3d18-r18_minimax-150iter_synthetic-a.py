# STPrivacy with SPAct's self-supervised privacy branch (a label-free variant, ours), stage 3,
# demo scale: the minimax loop of SPAct (MinimaxOptimWrapper, Eq. 7-9). Step 1 updates the
# tubelet f_A (transformer, sparsifier, head) on
#     L_T - w * L_B + loss_keep,   loss_keep = 2 * mean_n((mean_l p_nl - 0.5)^2)
# (DynamicViT's keep-ratio loss; the sparsifier's hard Gumbel decisions mask attention);
# step 2 updates f_T on L_T and f_B (NT-Xent on two frames of each anonymized clip) on L_B.
# No privacy label is used. The authors' training code is withheld; this is our design.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py',
          '../_base_/models/stprivacy_vit.py']
stage2_work_dir = 'work_dirs/stprivacy-stage2_vit-tiny-r3d18-r18_150iter_synthetic-a'
model = dict(init_cfg=dict(checkpoint=f'{stage2_work_dir}/final.pth'),
             data_preprocessor=dict(anonymizer={{_base_.stprivacy_tiny}}))
optim_wrapper = dict(anonymizer=dict(optimizer=dict(lr=1e-4)))  # alpha_A for a transformer
# No th_Bmax stop rule: the run does its 150 iterations (the sparsifier must learn).
default_hooks = dict(stop_rule=dict(threshold=None))
