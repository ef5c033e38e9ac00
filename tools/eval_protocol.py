"""Evaluate an anonymizer under an evaluation protocol of SPAct (Sec. 4).

Trains a fresh action model f'_T and a fresh privacy attacker f'_B on the
anonymized training data, tests them on the anonymized test data and writes
``results.json``: a thin CLI over :func:`spact_mm.evaluation.protocol.run_protocol`.

Example::

    python tools/eval_protocol.py \
        configs/protocols/protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py \
        --anonymizer downsample-2x --work-dir work_dirs/protocols/cross/downsample-2x \
        --raw-results work_dirs/protocols/cross/raw/results.json
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import Optional, Sequence

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from spact_mm.evaluation.protocol import TASKS, run_protocol  # noqa: E402
from spact_mm.models.anonymizers.baselines import BASELINES, ORACLE_BASELINES  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line of ``tools/eval_protocol.py``."""
    parser = argparse.ArgumentParser(
        description='Evaluate an anonymizer with fresh action and privacy models (SPAct Sec. 4)',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='protocol config (configs/protocols/...)')
    parser.add_argument('--anonymizer', required=True,
                        help='checkpoint holding f_A (e.g. a SPAct stage-3 final.pth) or a '
                        f'baseline: {", ".join(list(BASELINES) + list(ORACLE_BASELINES))}')
    parser.add_argument('--work-dir', required=True, help='where results.json is written')
    parser.add_argument('--method', help='name in tables (default: the baseline name or the '
                        "checkpoint's folder)")
    parser.add_argument('--raw-results', help='results.json of the same protocol with '
                        '`--anonymizer raw`, for the relative drops')
    parser.add_argument('--tasks', nargs='+', choices=TASKS, default=list(TASKS))
    parser.add_argument('--data-root', help="replace the config's data_root")
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--num-workers', type=int, help="override the dataloaders' num_workers")
    parser.add_argument('--reuse', help='results.json of the same anonymizer to copy the figures '
                        'of the tasks not run from')
    parser.add_argument('--face-boxes', choices=['detector'],
                        help="a face f_A: find the faces with f_A's own detector (the protocol "
                        'pipelines carry no annotated boxes; without this a face f_A is '
                        'refused, see tools/privacy_audit.py)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the protocol config, e.g. '
                        'action.train_cfg.max_iters=10')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run :func:`run_protocol` from the command line and print the figures."""
    args = parse_args(argv)
    res = run_protocol(args.config, args.anonymizer, args.work_dir, method=args.method,
                       raw_results=args.raw_results, tasks=args.tasks, data_root=args.data_root,
                       cfg_options=args.cfg_options, progress=not args.no_progress,
                       num_workers=args.num_workers, reuse=args.reuse,
                       face_boxes=args.face_boxes)
    drops = res.get('drops_pct', {})
    print(f"{res['method']} | {res['protocol']} ({res['dataset']})")
    for key, value in res['metrics'].items():
        drop = f'  (drop {drops[key]:+.1f}%)' if key in drops else ''
        print(f'  {key}: {value:.4g}{drop}')
    print(f"  -> {osp.join(args.work_dir, 'results.json')}")
    return res


if __name__ == '__main__':
    main()
