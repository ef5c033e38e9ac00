"""Testing entry point: parse the command line, merge it into a config, evaluate.

This module mirrors mmaction2 1.1.0's ``tools/test.py`` (same arguments, same
merge rules and order), split into library functions so that ``tools/test.py``
is a thin CLI and tests can call every step. :func:`test` also returns the
metrics that ``runner.test()`` computed.
"""
import argparse
from typing import Dict, Optional, Sequence

from mmengine.config import Config, DictAction

from .train import (
    CFG_OPTIONS_HELP,
    add_launcher_args,
    build_runner,
    default_work_dir,
    export_local_rank,
)


def parse_test_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the testing command line (same arguments as mmaction2's ``tools/test.py``).

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The parsed arguments. ``LOCAL_RANK`` is exported from ``--local_rank``
        when the launcher has not set it.
    """
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model (SPAct)',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump', type=str, help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help=CFG_OPTIONS_HELP)
    parser.add_argument(
        '--show-dir', help='directory where the visualization images will be saved.')
    parser.add_argument(
        '--show',
        action='store_true',
        help='whether to display the prediction results in a window.')
    parser.add_argument(
        '--interval', type=int, default=1, help='visualize per interval samples.')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='display time of every window. (second)')
    parser.add_argument(
        '--allow-partial-checkpoint', action='store_true',
        help='evaluate even if the checkpoint lacks weights of the model or holds weights '
             'of another shape (default: an error listing them)')
    add_launcher_args(parser)
    args = parser.parse_args(argv)
    export_local_rank(args)
    return args


def merge_test_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge parsed testing arguments into ``cfg``, in mmaction2's order.

    Visualization and ``--dump`` first, then ``--launcher``, ``--cfg-options``,
    the work directory (CLI > config > config file name) and the checkpoint.

    Args:
        cfg: The loaded config; modified in place.
        args: Arguments from :func:`parse_test_args`.

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


def build_test_cfg(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and merge the command line into it.

    Args:
        args: Arguments from :func:`parse_test_args`.

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
