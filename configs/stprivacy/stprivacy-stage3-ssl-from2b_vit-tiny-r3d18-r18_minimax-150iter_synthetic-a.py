# STPrivacy's label-free stage 3 (the base) started from stage 2b, whose sparsifier and f_A
# learned on L_T alone, instead of from stage 2 (ours). In the session-9 audit
# (docs/stprivacy.md) this kept the fresh f'_T at 63.3 against 46.9 from stage 2
# (raw 76.6), with person cMAP -22 % against -32 %.
_base_ = ['./stprivacy-stage3-ssl_vit-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
stage2_work_dir = 'work_dirs/stprivacy-stage2b-sparsify_vit-tiny-r3d18-r18_150iter_synthetic-a'
model = dict(init_cfg=dict(checkpoint=f'{stage2_work_dir}/final.pth'))
