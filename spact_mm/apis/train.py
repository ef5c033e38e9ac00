"""Training: merge the command-line options into a config, train.

This module mirrors mmaction2 1.1.0's ``tools/train.py`` (same options, same
``merge_args`` rules), split into library functions so that ``tools/train.py``
(which parses the command line into :class:`TrainArgs`) is a thin CLI and tests
can call every step. Two things differ, both additive:

* ``--amp`` also handles SPAct's multi-branch ``optim_wrapper`` (one optim
  wrapper per branch, e.g. ``anonymizer``, ``recognizer`` and ``privacy``):
  each branch becomes an ``AmpOptimWrapper``.
* ``--seed``, ``--diff-rank-seed`` and ``--deterministic`` override a config's
  own ``randomness`` instead of being ignored when the config has one.

Multi-process training on a machine without CUDA (``--launcher pytorch``) is
made to work too: see :func:`setup_cpu_distributed`.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional

from mmengine.config import Config

if TYPE_CHECKING:
    from mmengine.runner import Runner

#: Keys of a plain (single) optim wrapper config; anything else holding a dict
#: with ``type`` or ``optimizer`` is a branch of a multi-branch optim wrapper.
_PLAIN_OPTIM_WRAPPER_KEYS = frozenset({
    'type', 'optimizer', 'paramwise_cfg', 'clip_grad', 'constructor', 'accumulative_counts',
    'loss_scale', 'dtype', 'use_fsdp'
})
_AMP_COMPATIBLE_TYPES = ('OptimWrapper', 'AmpOptimWrapper', 'GuardedOptimWrapper',
                         'GuardedAmpOptimWrapper')

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')

CFG_OPTIONS_HELP = (
    'override some settings in the used config, the key-value pair in xxx=yyy format will be '
    'merged into config file. If the value to be overwritten is a list, it should be like '
    'key="[a,b]" or key=a,b. It also allows nested list/tuple values, e.g. '
    'key="[(a,b),(c,d)]". Note that the quotation marks are necessary and that no white space '
    'is allowed.')


def default_work_dir(config_path: str) -> str:
    """Return ``./work_dirs/<config file stem>``, the default work directory.

    Args:
        config_path: Path of the config file.

    Returns:
        The default work directory for that config.
    """
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


@dataclass
class TrainArgs:
    """The options of ``tools/train.py`` (its flags, with the same defaults).

    ``tools/train.py`` parses the command line into this; a script can fill it
    directly. Any object with these attributes (e.g. an ``argparse.Namespace``)
    is accepted as well.

    Attributes:
        config: Train config file path.
        work_dir: The dir to save logs and models (``--work-dir``).
        resume: A checkpoint to resume from, or ``'auto'`` for the work dir's latest.
        amp: Automatic-mixed-precision training (every branch of a multi-branch wrapper).
        no_validate: Do not evaluate during training.
        auto_scale_lr: Scale the learning rate by the actual batch size.
        seed: Random seed (overrides the config's ``randomness.seed``).
        diff_rank_seed: Different seeds for different ranks.
        deterministic: Deterministic CUDNN options.
        cfg_options: ``key=value`` overrides merged into the config.
        launcher: Job launcher, one of :data:`LAUNCHERS`.
        local_rank: Local rank, exported as ``LOCAL_RANK`` by the CLI.
    """
    config: str
    work_dir: Optional[str] = None
    resume: Optional[str] = None
    amp: bool = False
    no_validate: bool = False
    auto_scale_lr: bool = False
    seed: Optional[int] = None
    diff_rank_seed: bool = False
    deterministic: bool = False
    cfg_options: Optional[Dict[str, Any]] = None
    launcher: str = 'none'
    local_rank: int = 0


def _enable_amp(optim_wrapper: dict, where: str) -> None:
    """Turn one optim wrapper config into an ``AmpOptimWrapper`` in place."""
    wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
    assert wrapper_type in _AMP_COMPATIBLE_TYPES, (
        f'`--amp` is not supported for the custom optim wrapper type `{wrapper_type}` '
        f'of `{where}`.')
    guarded = wrapper_type.startswith('Guarded')  # keep the non-finite guard
    optim_wrapper['type'] = 'GuardedAmpOptimWrapper' if guarded else 'AmpOptimWrapper'
    optim_wrapper.setdefault('loss_scale', 'dynamic')


def optim_wrapper_branches(optim_wrapper: dict) -> list:
    """Names of the branches of a multi-branch ``optim_wrapper`` config.

    A branch is a key outside the plain optim wrapper keys whose value is a dict
    with a ``type`` or an ``optimizer`` (e.g. SPAct's ``anonymizer``,
    ``recognizer`` and ``privacy``). A plain optim wrapper has none.

    Args:
        optim_wrapper: The ``optim_wrapper`` field of a config.

    Returns:
        The branch names, in config order.
    """
    return [
        key for key, value in optim_wrapper.items()
        if key not in _PLAIN_OPTIM_WRAPPER_KEYS and isinstance(value, dict) and (
            'type' in value or 'optimizer' in value)
    ]


def merge_train_args(cfg: Config, args: TrainArgs) -> Config:
    """Merge parsed training arguments into ``cfg`` (mmaction2's ``merge_args``).

    Args:
        cfg: The loaded config; modified in place.
        args: The options, e.g. parsed by ``tools/train.py``.

    Returns:
        ``cfg``, for chaining.
    """
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    # work_dir priority: CLI > the config file > the config file name
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)

    if args.amp:
        branches = optim_wrapper_branches(cfg.optim_wrapper)
        if branches:  # one wrapper per branch; the top-level type is the container's
            for name in branches:
                _enable_amp(cfg.optim_wrapper[name], f'optim_wrapper.{name}')
        else:
            _enable_amp(cfg.optim_wrapper, 'optim_wrapper')

    # `--resume` without a path is resolved at the end, after --cfg-options.
    if args.resume not in (None, 'auto'):
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr', None) is None:
            raise KeyError('`--auto-scale-lr` needs `auto_scale_lr = dict(base_batch_size=...)` '
                           'in the config.')
        cfg.auto_scale_lr.enable = True

    if cfg.get('randomness', None) is None:
        cfg.randomness = dict(
            seed=args.seed, diff_rank_seed=args.diff_rank_seed, deterministic=args.deterministic)
    else:  # the CLI wins over the config, for the flags actually given
        if args.seed is not None:
            cfg.randomness.seed = args.seed
        if args.diff_rank_seed:
            cfg.randomness.diff_rank_seed = True
        if args.deterministic:
            cfg.randomness.deterministic = True

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.resume == 'auto':
        # Unlike mmaction2, which drops ``load_from`` and may then start from
        # random weights: resume from the work dir's latest checkpoint if there
        # is one, otherwise start as configured, e.g. from the previous SPAct
        # stage's ``final.pth`` named in ``load_from``.
        from mmengine.runner import find_latest_checkpoint

        latest = find_latest_checkpoint(cfg.work_dir) if osp.isdir(cfg.work_dir) else None
        cfg.resume = latest is not None
        if latest is not None:
            cfg.load_from = latest
    return cfg


class MissingDataError(FileNotFoundError):
    """An annotation file that a config's dataloaders read does not exist."""


def _ann_files(node, where: str):
    """Yield ``(config key, path)`` of every ``ann_file`` in a dataset config tree.

    A relative ``ann_file`` is joined with its own dataset's ``data_root``, as
    mmengine's ``BaseDataset`` does.
    """
    if isinstance(node, dict):
        ann, root = node.get('ann_file'), node.get('data_root')
        if isinstance(ann, str) and ann:
            full = ann if osp.isabs(ann) or not root else osp.join(root, ann)
            yield f'{where}.ann_file', full
        for key, value in node.items():
            if key != 'ann_file':
                yield from _ann_files(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _ann_files(value, f'{where}.{i}')


def data_readme(path: str) -> str:
    """The data-preparation README for a data path ``data/<name>/...``.

    Args:
        path: A path under the project's ``data/`` folder (or anywhere).

    Returns:
        ``tools/data/<name>/README.md`` when that file exists in this checkout,
        otherwise ``tools/data/<dataset>/README.md`` as a pattern.
    """
    parts = osp.normpath(path).split(os.sep)
    tools_data = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                          'tools', 'data')
    if 'data' in parts[:-1]:
        name = parts[parts.index('data') + 1]
        if osp.isfile(osp.join(tools_data, name, 'README.md')):
            return f'tools/data/{name}/README.md'
    return 'tools/data/<dataset>/README.md'


def check_data_files(cfg: Config) -> None:
    """Refuse, in one line, to start when an annotation file of the run is missing.

    Without this, mmengine logs the environment and the whole config (hundreds of
    lines) before the dataset raises a bare ``FileNotFoundError``. Checked: the
    ``ann_file`` of every dataset (wrappers included) of ``train_dataloader``, and of
    ``val_dataloader`` when ``val_cfg`` is set.

    Args:
        cfg: The merged training config.

    Raises:
        MissingDataError: naming the file, the config key and the data README.
    """
    keys = ['train_dataloader'] + (['val_dataloader'] if cfg.get('val_cfg') else [])
    for key in keys:
        loader = cfg.get(key)
        if not loader:
            continue
        for where, path in _ann_files(loader.get('dataset'), f'{key}.dataset'):
            if not osp.exists(path):
                shown = path if osp.isabs(path) else f'{path} (in {os.getcwd()})'
                raise MissingDataError(
                    f'{shown} not found ({where}); prepare the data as {data_readme(path)} '
                    f'says, or point the config at it with --cfg-options {where}=...')


def check_sampler_fits_loop(cfg) -> None:
    """Refuse an epoch-based loop over an infinite sampler (it would never end an epoch).

    The synthetic configs train with mmengine's ``InfiniteSampler`` (with a finite
    sampler, ``IterBasedTrainLoop`` sleeps 2 s at every restart of the dataloader).
    Switching such a config to ``EpochBasedTrainLoop`` without the sampler would hang.

    Args:
        cfg: A config (or dict) with ``train_cfg`` and ``train_dataloader``.

    Raises:
        ValueError: naming the sampler and the fix.
    """
    train_cfg = cfg.get('train_cfg') or {}
    sampler = (cfg.get('train_dataloader') or {}).get('sampler') or {}
    by_epoch = 'max_epochs' in train_cfg or train_cfg.get('type') == 'EpochBasedTrainLoop'
    if by_epoch and str(sampler.get('type', '')).split('.')[-1] == 'InfiniteSampler':
        raise ValueError(
            'train_cfg is epoch-based but train_dataloader.sampler is InfiniteSampler, which '
            "never ends an epoch: use --cfg-options train_dataloader.sampler.type=DefaultSampler "
            '(or an IterBasedTrainLoop)')


def build_train_cfg(args: TrainArgs) -> Config:
    """Load ``args.config`` and merge the command line into it.

    Args:
        args: The options, e.g. parsed by ``tools/train.py``.

    Returns:
        The config to hand to :func:`train`.
    """
    return merge_train_args(Config.fromfile(args.config), args)


def setup_cpu_distributed(cfg: Config) -> None:
    """Let ``--launcher pytorch`` run on CPU-only machines (gloo backend).

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and so fails
    without a GPU. When the launcher is ``pytorch``, CUDA is unavailable and no
    process group exists yet, this initialises a gloo process group from the
    launcher's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
    ``MASTER_PORT``), which the Runner then reuses, and makes the DDP wrapper
    CPU-friendly (``device_ids=None``). Otherwise it does nothing.

    Args:
        cfg: The full config; ``model_wrapper_cfg`` may be set in place.
    """
    import torch
    import torch.distributed as torch_dist

    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    if not torch_dist.is_initialized():
        import datetime

        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout', 1800)
        torch_dist.init_process_group(
            backend='gloo', timeout=datetime.timedelta(seconds=timeout))
    if cfg.get('model_wrapper_cfg', None) is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg.setdefault('device_ids', None)


def build_runner(cfg: Config) -> 'Runner':
    """Register ``spact_mm``, enable safe checkpoint loading and build a Runner from ``cfg``.

    A config without ``default_scope`` gets ``'spact_mm'``. A config with
    ``runner_type`` is built through the ``spact_mm`` ``RUNNERS`` registry,
    otherwise with ``Runner.from_cfg``.

    Args:
        cfg: A full config, e.g. from :func:`build_train_cfg`.

    Returns:
        The runner, not yet started.
    """
    from mmengine.runner import Runner

    from spact_mm.registry import RUNNERS
    from spact_mm.safe_loading import enable_safe_loading
    from spact_mm.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    enable_safe_loading()  # load_from / resume / checkpoints refuse pickled code
    if cfg.get('default_scope', None) is None:
        cfg.default_scope = 'spact_mm'
    setup_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train(cfg: Config) -> 'Runner':
    """Build the runner from ``cfg`` and train (after :func:`check_data_files` and
    :func:`check_sampler_fits_loop`).

    Args:
        cfg: A full training config, e.g. from :func:`build_train_cfg`.

    Returns:
        The runner after ``runner.train()`` (``runner.iter``, ``runner.model``,
        ``runner.work_dir`` ... are available).
    """
    check_data_files(cfg)
    check_sampler_fits_loop(cfg)
    runner = build_runner(cfg)
    runner.train()
    finish_distributed()
    return runner


def finish_distributed() -> None:
    """Let every rank leave together, then tear the process group down.

    Without this a rank that finishes first exits while another still uses the
    group (e.g. rank 0 writing the last checkpoint), and gloo's threads abort
    the late rank at interpreter exit ("terminate called without an active
    exception"). No-op for single-process runs.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
