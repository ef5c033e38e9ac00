# Remedy 7b (ours): the anchored game of spact-stage3-anchored-long with a trust region around
# the anchor, L_F = lambda mean |f_A(X) - R(X)| (AnchorFidelityLoss, lambda = 50, the weight of
# the two-sided temporal-consistency penalty). Screening of anchored-long: f_A's background
# carried scene information in residuals of 1-2 grey levels that a linear pixel probe reads
# (outdoor AP 99, scene cut 22 % against the motion-only anchor's 35 %); L_F pulls back every
# departure from the anchor that does not pay in the game.
_base_ = ['./spact-stage3-anchored-long_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py']
model = dict(data_preprocessor=dict(
    anchor_fidelity=dict(type='AnchorFidelityLoss', reference={{_base_.anchor}}, loss_weight=50.0)))
