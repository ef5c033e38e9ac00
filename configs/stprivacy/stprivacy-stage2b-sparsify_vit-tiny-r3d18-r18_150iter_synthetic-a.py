# STPrivacy, stage 2b (ours): the sparsifier learns what the action needs before the game.
# Stage 2 keeps the top half of the tubelets by an untrained sparsifier, and the plain
# stage 3 has to learn which tubelets carry the action while fighting f_B; it lost the
# action (docs/stprivacy.md). Here the minimax loop runs with omega = 0: step 1 trains the
# tubelet f_A (transformer, sparsifier, head) on L_T + loss_keep alone, with the hard
# Gumbel decisions of training, as DynamicViT trains its predictor on the task loss;
# step 2 trains f_T (and f_B, which step 1 then ignores). Stage 3 starts from here:
# stprivacy-stage3-ssl-from2b (or any stage 3 with
#     --cfg-options model.init_cfg.checkpoint=<this run>/final.pth)
_base_ = ['./stprivacy-stage3-ssl_vit-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
optim_wrapper = dict(ssl_weight=0.0)
