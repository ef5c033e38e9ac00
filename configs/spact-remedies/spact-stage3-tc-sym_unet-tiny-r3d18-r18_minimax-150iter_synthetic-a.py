# Remedy (a) of issue 12, two-sided: L_TC = lambda * mean(|(|A_t+1 - A_t| - |X_t+1 - X_t|)|)
# (TemporalConsistencyLoss, symmetric=True), lambda = 50. Screening of the one-sided
# penalty at lambda = 10 (spact-stage3-tc): the flicker outside the person box stayed
# (4.4 against 4.8 grey levels of temporal std; raw 1.2) and f_A wiped out part of the
# person's motion instead (20 -> 13), which cost a fresh f'_T 30 points. Here missing
# motion costs as much as added motion, and 5x more.
_base_ = ['./spact-stage3-tc_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(data_preprocessor=dict(
    temporal_consistency=dict(loss_weight=50.0, symmetric=True)))
