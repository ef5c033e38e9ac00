# Remedy (a) of issue 12: a temporal-consistency constraint on f_A. Step 1 minimises
# L_T - w L_B + L_TC with L_TC = lambda * mean(max(0, |A_t+1 - A_t| - |X_t+1 - X_t|))
# in [0, 1] pixel units (TemporalConsistencyLoss): f_A may not add motion the raw
# clip does not have, which closes the flicker shortcut. lambda = 10: the demo's f_A
# adds about 0.025 of excess frame difference per pixel (6.5 grey levels of temporal
# std outside the person box), i.e. L_TC about 0.25, of the order of w * L_B.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(data_preprocessor=dict(
    type='MinimaxAnonymizerDataPreprocessor',
    temporal_consistency=dict(type='TemporalConsistencyLoss', loss_weight=10.0)))
