"""Testing: merge the command-line options into a config, evaluate.

This module mirrors mmaction2 1.1.0's ``tools/test.py`` (same options, same
merge rules and order), split into library functions so that ``tools/test.py``
(which parses the command line into :class:`TestArgs`) is a thin CLI and tests
can call every step. :func:`test` also returns the
metrics that ``runner.test()`` computed.
"""
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Optional, Sequence

from mmengine.config import Config

from .train import build_runner, default_work_dir


@dataclass
class TestArgs:
    """The options of ``tools/test.py`` (its flags, with the same defaults).

    ``tools/test.py`` parses the command line into this; a script can fill it
    directly. Any object with these attributes (e.g. an ``argparse.Namespace``)
    is accepted as well.

    Attributes:
        config: Test config file path.
        checkpoint: Checkpoint file.
        work_dir: The directory to save the file containing evaluation metrics.
        dump: A ``.pkl`` file to dump predictions to.
        cfg_options: ``key=value`` overrides merged into the config.
        show_dir: Directory where the visualization images will be saved.
        show: Display the prediction results in a window.
        interval: Visualize per interval samples.
        wait_time: Display time of every window (seconds).
        allow_partial_checkpoint: Evaluate even if the checkpoint does not fill the model.
        launcher: Job launcher, one of ``spact_mm.apis.train.LAUNCHERS``.
        local_rank: Local rank, exported as ``LOCAL_RANK`` by the CLI.
    """
    __test__: ClassVar[bool] = False  # not a test class: keep pytest from collecting it

    config: str
    checkpoint: str
    work_dir: Optional[str] = None
    dump: Optional[str] = None
    cfg_options: Optional[Dict[str, Any]] = None
    show_dir: Optional[str] = None
    show: bool = False
    interval: int = 1
    wait_time: float = 2
    allow_partial_checkpoint: bool = False
    launcher: str = 'none'
    local_rank: int = 0


def merge_test_args(cfg: Config, args: TestArgs) -> Config:
    """Merge parsed testing arguments into ``cfg``, in mmaction2's order.

    Visualization and ``--dump`` first, then ``--launcher``, ``--cfg-options``,
    the work directory (CLI > config > config file name) and the checkpoint.

    Args:
        cfg: The loaded config; modified in place.
        args: The options, e.g. parsed by ``tools/test.py``.

    Returns:
        ``cfg``, for chaining.
    """
    if args.show or args.show_dir is not None:
        assert 'visualization' in cfg.get('default_hooks', {}), (
            'VisualizationHook is not set in the `default_hooks` field of config. Please set '
            '`visualization=dict(type="VisualizationHook")`')
        visualization = cfg.default_hooks.visualization
        visualization.enable = True
        visualization.show = args.show
        visualization.wait_time = args.wait_time
        visualization.out_dir = args.show_dir
        visualization.interval = args.interval

    if args.dump is not None:
        assert args.dump.endswith(('.pkl', '.pickle')), 'The dump file must be a pkl file.'
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = [*cfg.test_evaluator, dump_metric]
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]

    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)

    cfg.load_from = args.checkpoint
    cfg.allow_partial_checkpoint = bool(getattr(args, 'allow_partial_checkpoint', False))
    return cfg


def build_test_cfg(args: TestArgs) -> Config:
    """Load ``args.config`` and merge the command line into it.

    Args:
        args: The options, e.g. parsed by ``tools/test.py``.

    Returns:
        The config to hand to :func:`test`.
    """
    return merge_test_args(Config.fromfile(args.config), args)


class CheckpointMismatchError(RuntimeError):
    """A checkpoint that lacks weights of the model under test, or has other shapes."""


def check_checkpoint_keys(model_state: Dict, checkpoint_state: Dict, source: str,
                          skip_prefixes: Sequence[str] = ()) -> None:
    """Refuse to evaluate a model that the checkpoint does not fully fill.

    mmengine loads with ``strict=False`` and only warns, so a checkpoint of
    another architecture (or with a missing backbone) is evaluated with random
    weights and reports a chance-level figure with exit status 0.

    Args:
        model_state: The model's ``state_dict()``.
        checkpoint_state: The checkpoint's ``state_dict`` (a ``module.`` prefix,
            from DDP, is ignored).
        source: The checkpoint, for the message.
        skip_prefixes: Model keys filled from elsewhere (f_A loaded from the
            data preprocessor's own ``checkpoint``).

    Raises:
        CheckpointMismatchError: Listing missing keys and shape mismatches.
    """
    ckpt = {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in checkpoint_state.items()}
    wanted = {k: v for k, v in model_state.items()
              if not k.startswith(tuple(skip_prefixes)) and not k.endswith('num_batches_tracked')}
    missing = [k for k in wanted if k not in ckpt]
    shapes = [f'{k} {tuple(ckpt[k].shape)} in the checkpoint, {tuple(v.shape)} in the model'
              for k, v in wanted.items()
              if k in ckpt and hasattr(ckpt[k], 'shape') and tuple(ckpt[k].shape) != tuple(v.shape)]
    if missing or shapes:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing ({", ".join(missing[:5])}'
                         f'{", ..." if len(missing) > 5 else ""})')
        if shapes:
            parts.append(f'{len(shapes)} of another shape ({"; ".join(shapes[:3])}'
                         f'{"; ..." if len(shapes) > 3 else ""})')
        raise CheckpointMismatchError(
            f'{source} does not fit the model under test: of its {len(wanted)} weights, '
            f'{" and ".join(parts)}. Use the checkpoint of this config, or pass '
            f'--allow-partial-checkpoint to evaluate anyway')


def test(cfg: Config) -> Dict[str, float]:
    """Build the runner from ``cfg`` and run the test loop.

    Unless ``cfg.allow_partial_checkpoint`` is set, a checkpoint that lacks
    weights of the model or holds weights of another shape is an error
    (:func:`check_checkpoint_keys`) instead of mmengine's warning.

    Args:
        cfg: A full config with ``test_dataloader``, ``test_cfg``,
            ``test_evaluator`` and ``load_from``, e.g. from :func:`build_test_cfg`.

    Returns:
        The metrics computed by the test evaluator.
    """
    from mmengine.model import is_model_wrapper
    from mmengine.runner.checkpoint import _load_checkpoint

    runner = build_runner(cfg)
    if cfg.get('load_from') and not cfg.get('allow_partial_checkpoint', False):
        ckpt = _load_checkpoint(cfg.load_from, map_location='cpu')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pre = cfg.get('model', {}).get('data_preprocessor') or {}
        skip = ('data_preprocessor.', ) if pre.get('checkpoint') else ()
        check_checkpoint_keys(model.state_dict(), ckpt.get('state_dict', ckpt),
                              str(cfg.load_from), skip)
    return runner.test()


test.__test__ = False  # a library function, not a test: keep pytest from collecting it
