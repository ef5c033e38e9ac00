# SPAct stage 2 (Sec. 3.3, Eq. 7 and 8): only step 2 of the minimax
# alternation, i.e. f_T and f_B trained on the frozen f_A's output. One Adam
# optimiser per branch; alpha_T and alpha_B are the `lr`s (the paper: 1e-4).
optim_wrapper = dict(
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    anonymizer_steps=0,
    adversary_steps=1,
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),  # alpha_T
    privacy=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))  # alpha_B
param_scheduler = []
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
