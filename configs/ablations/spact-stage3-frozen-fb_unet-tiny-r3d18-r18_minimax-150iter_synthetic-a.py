# Ablation, Table 3 row 3: f_B (from stage 2) is frozen: no privacy optimiser,
# so step 2 updates only f_T while step 1 still maximises L_B through f_B.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
optim_wrapper = dict(
    _delete_=True,
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    ssl_weight=0.5,
    anonymizer_steps=1,
    adversary_steps=1,
    anonymizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)),
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
