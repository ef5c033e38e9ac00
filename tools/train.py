"""Train a model from a config: a thin CLI over :mod:`spact_mm.apis.train`.

Same arguments as mmaction2's ``tools/train.py``; run ``python tools/train.py -h``.
"""
import argparse
import importlib.util
import os
import os.path as osp
import sys
from typing import Optional, Sequence

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from spact_mm.apis import build_train_cfg, train  # noqa: E402
from spact_mm.apis.train import (  # noqa: E402
    CFG_OPTIONS_HELP,
    LAUNCHERS,
    MissingDataError,
    TrainArgs,
)


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--launcher`` and ``--local_rank`` (shared by train and test).

    Args:
        parser: The parser to extend.
    """
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def export_local_rank(args: argparse.Namespace) -> None:
    """Export ``args.local_rank`` as ``LOCAL_RANK`` unless a launcher already did.

    Args:
        args: Parsed arguments with a ``local_rank`` attribute.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)


def parse_args(argv: Optional[Sequence[str]] = None) -> TrainArgs:
    """Parse the training command line (same arguments as mmaction2's ``tools/train.py``).

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The parsed options. ``LOCAL_RANK`` is exported from ``--local_rank``
        when the launcher has not set it.
    """
    parser = argparse.ArgumentParser(description='Train an action recognizer (SPAct)',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not specify, try to auto '
        'resume from the latest checkpoint in the work directory.')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='whether not to evaluate the checkpoint during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the actual batch size and '
        'the original batch size.')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='whether or not set different seeds for different ranks')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='whether to set deterministic options for CUDNN backend.')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help=CFG_OPTIONS_HELP)
    add_launcher_args(parser)
    args = parser.parse_args(argv)
    export_local_rank(args)
    return TrainArgs(**vars(args))


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Parse the command line, merge it into the config and train."""
    try:
        train(build_train_cfg(parse_args(argv)))
    except MissingDataError as err:  # one line instead of a config dump and a traceback
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
