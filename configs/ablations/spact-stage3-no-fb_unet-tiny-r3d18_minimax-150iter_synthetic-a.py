# Ablation, Table 3 row 2: f_A trained with f_T only, no privacy branch f_B.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=None)
optim_wrapper = dict(
    _delete_=True,
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    anonymizer_steps=1,
    adversary_steps=1,
    anonymizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)),
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
default_hooks = dict(stop_rule=dict(threshold=None))  # no L_B to watch
