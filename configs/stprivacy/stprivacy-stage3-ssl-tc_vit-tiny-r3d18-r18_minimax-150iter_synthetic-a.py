# STPrivacy's label-free stage 3 with two of SPAct's remedies (issue 12, ours): the
# two-sided temporal-consistency penalty
#     L_TC = 50 * mean(|(|A_t+1 - A_t| - |X_t+1 - X_t|)|)     (TemporalConsistencyLoss)
# and f_B restarted every 50 iterations (10 step-2-only warm-up iterations after each),
# omega = 1. Step 1 then minimises L_T - w L_B + loss_keep + L_TC. The plain stage 3
# (the base) lost the action (fresh f'_T 47 against 77 raw, docs/stprivacy.md): f_A
# rewrote its kept tubelets into colour noise that changes from frame to frame, which
# fools the co-trained f_B (L_B above chance) as SPAct's flicker did; L_TC forbids added
# (and removed) frame-to-frame change, and the restarts make f_A beat a fresh f_B again.
_base_ = ['./stprivacy-stage3-ssl_vit-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(data_preprocessor=dict(
    type='MinimaxAnonymizerDataPreprocessor',
    temporal_consistency=dict(type='TemporalConsistencyLoss', loss_weight=50.0,
                              symmetric=True)))
optim_wrapper = dict(ssl_weight=1.0, privacy_restart_interval=50, privacy_restart_warmup=10)
