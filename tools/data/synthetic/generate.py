"""Generate the synthetic privacy-action video dataset.

A thin CLI over :func:`spact_mm.datasets.synthetic.generate_synthetic_dataset`;
see ``tools/data/synthetic/README.md`` for what it writes. Example::

    python tools/data/synthetic/generate.py --root data/synthetic --seed 0
"""
import argparse
import importlib.util
import json
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))

from spact_mm.datasets.synthetic import generate_synthetic_dataset  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic privacy-action video dataset (deterministic).',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--root', default='data/synthetic', help='output directory')
    parser.add_argument('--seed', type=int, default=0, help='seed of every random stream')
    parser.add_argument('--videos-per-class', type=int, default=24,
                        help='training videos per action class and action set')
    parser.add_argument('--val-videos-per-class', type=int, default=8,
                        help='validation videos per action class and action set')
    parser.add_argument('--num-frames', type=int, default=16, help='frames per video')
    parser.add_argument('--size', type=int, default=64, help='frame height and width')
    parser.add_argument('--fps', type=int, default=8, help='frame rate of the mp4 files')
    parser.add_argument('--num-identities', type=int, default=24,
                        help='size of the pool of recurring person identities')
    parser.add_argument('--overwrite', action='store_true',
                        help='regenerate even if ROOT already holds the same dataset')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Generate (or reuse) the dataset and print its summary as JSON."""
    args = parse_args(argv)
    summary = generate_synthetic_dataset(
        args.root, seed=args.seed, videos_per_class=args.videos_per_class,
        val_videos_per_class=args.val_videos_per_class, num_frames=args.num_frames,
        size=args.size, fps=args.fps, overwrite=args.overwrite,
        num_identities=args.num_identities)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
