"""Test (and evaluate) a checkpoint: a thin CLI over :mod:`spact_mm.apis.test`.

Same arguments as mmaction2's ``tools/test.py``; run ``python tools/test.py -h``.
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import Optional, Sequence

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from spact_mm.apis import build_test_cfg  # noqa: E402
from spact_mm.apis import test as run_test  # noqa: E402
from spact_mm.apis.test import TestArgs  # noqa: E402
from spact_mm.apis.train import CFG_OPTIONS_HELP  # noqa: E402

if osp.dirname(osp.abspath(__file__)) not in sys.path:  # tools/train.py beside it, under runpy too
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from train import add_launcher_args, export_local_rank  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> TestArgs:
    """Parse the testing command line (same arguments as mmaction2's ``tools/test.py``).

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The parsed options. ``LOCAL_RANK`` is exported from ``--local_rank``
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
    return TestArgs(**vars(args))


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Parse the command line, merge it into the config and run the test loop."""
    run_test(build_test_cfg(parse_args(argv)))


if __name__ == '__main__':
    main()
