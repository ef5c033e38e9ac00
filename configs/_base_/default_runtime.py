# Runtime shared by every spact_mm config: mmaction2 1.1.0's
# configs/_base_/default_runtime.py with our registry scope and plugin import.
# (It is restated rather than inherited with `mmaction::_base_/...` because
# mmengine 0.10.7 fails to parse mmaction2 1.1.0's metafiles when resolving
# package-scoped base configs.)
default_scope = 'spact_mm'
# `spact_mm` registers our components; `spact_mm.safe_loading` makes every checkpoint load
# refuse pickled code (weights_only=True) and admit mmengine's plain-data types, so
# load_from/resume work with torch >= 2.6, also in mmaction2's own tools/train.py.
custom_imports = dict(imports=['spact_mm', 'spact_mm.safe_loading'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Atomic writes: a crash mid-write never replaces or deletes a good checkpoint.
    checkpoint=dict(type='AtomicCheckpointHook', interval=100, by_epoch=False, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    # No checkpoint is written, nor model tested, with NaN/inf weights or buffers;
    # warns if the optim wrapper has no non-finite guard (docs/reliability.md).
    nonfinite_guard=dict(type='NonFiniteGuardHook'))
# ResumeStateHook: bit-exact resume (random generators, stop-rule hook state).
custom_hooks = [dict(type='FinalCheckpointHook'), dict(type='ResumeStateHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
# No `randomness` here, as in mmaction2's default_runtime: mmaction2's tools/train.py only
# applies `--seed/--diff-rank-seed/--deterministic` to a config without one. Without
# `--seed`, mmengine draws a seed and logs it; the demo and the tests set theirs.
