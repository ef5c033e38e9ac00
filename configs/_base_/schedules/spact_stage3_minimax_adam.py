# SPAct stage 3 (Sec. 3.3, Eq. 7-9): the minimax alternation. Step 1 updates
# f_A on L_T - w * L_B, step 2 updates f_T on L_T and f_B on L_B. One Adam
# optimiser per branch; alpha_A, alpha_T, alpha_B are the `lr`s (the paper: 1e-4).
optim_wrapper = dict(
    constructor='MinimaxOptimWrapperConstructor',
    type='MinimaxOptimWrapper',
    ssl_weight=0.5,  # omega of Eq. 9
    anonymizer_steps=1,
    adversary_steps=1,
    anonymizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),  # alpha_A
    recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),  # alpha_T
    privacy=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))  # alpha_B
param_scheduler = []
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
