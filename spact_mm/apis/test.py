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
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model (SPAct)')
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
    return cfg


def build_test_cfg(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and merge the command line into it.

    Args:
        args: Arguments from :func:`parse_test_args`.

    Returns:
        The config to hand to :func:`test`.
    """
    return merge_test_args(Config.fromfile(args.config), args)


def test(cfg: Config) -> Dict[str, float]:
    """Build the runner from ``cfg`` and run the test loop.

    Args:
        cfg: A full config with ``test_dataloader``, ``test_cfg``,
            ``test_evaluator`` and ``load_from``, e.g. from :func:`build_test_cfg`.

    Returns:
        The metrics computed by the test evaluator.
    """
    return build_runner(cfg).test()


test.__test__ = False  # a library function, not a test: keep pytest from collecting it
