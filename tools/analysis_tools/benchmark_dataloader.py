"""Clips/s of a config's training pipeline against the model's consumption.

A thin CLI over :func:`minimax_benchmark.benchmark_dataloader` (beside it).

Example::

    python tools/analysis_tools/benchmark_dataloader.py \\
        configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py
"""
import argparse
import json
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.config import DictAction

if osp.dirname(osp.abspath(__file__)) not in sys.path:  # the module beside it, under runpy too
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('config', help='training config')
    p.add_argument('--num-batches', type=int, default=20)
    p.add_argument('--num-workers', type=int, default=None,
                   help="default: the config's train_dataloader.num_workers")
    p.add_argument('--model-iters', type=int, default=4)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--out', default=None, help='also write the figures to this JSON file')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the benchmark and print its figures."""
    import cv2  # noqa: F401  (before decord: see README)
    from minimax_benchmark import benchmark_dataloader

    import spact_mm  # noqa: F401

    args = parse_args(argv)
    res = benchmark_dataloader(args.config, num_batches=args.num_batches,
                               num_workers=args.num_workers, model_iters=args.model_iters,
                               cfg_options=args.cfg_options)
    print(f"loading  {res['load_clips_per_s']:8.1f} clips/s  ({res['num_workers']} workers, "
          f"batch {res['batch_size']})")
    print(f"model    {res['model_clips_per_s']:8.1f} clips/s  (train_step)")
    print('bottleneck: ' + ('data loading' if res['loading_bound'] else 'the model'))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == '__main__':
    main()
