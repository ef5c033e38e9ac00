# STPrivacy, stage 2b with a trust region on the kept tubelets (ours). Stage 2b
# (stprivacy-stage2b-sparsify) trains the sparsifier and f_A on L_T + loss_keep alone; with
# nothing holding f_A to the picture, L_T drove the kept tubelets to colour noise
# (docs/stprivacy.md, "What the frames look like"). Here step 1 also minimises
#     loss_fidelity = 10 * mean |f_A(X) - X| over the pixels of kept tubelets
# (STPrivacyAnonymizer's fidelity_weight). lambda = 10 was set before any run: a mean change
# of 0.1 per pixel then costs about as much as L_T at chance (1.39).
_base_ = ['./stprivacy-stage2b-sparsify_vit-tiny-r3d18-r18_150iter_synthetic-a.py']
model = dict(data_preprocessor=dict(anonymizer=dict(fidelity_weight=10.0)))
