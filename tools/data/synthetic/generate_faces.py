"""Generate the face-centric synthetic benchmark (learned face anonymization).

A thin CLI over :func:`spact_mm.datasets.synthetic.faces.generate_face_dataset`; see
``docs/face_anonymizer.md`` for what it writes. Example::

    python tools/data/synthetic/generate_faces.py --root data/synthetic-faces --seed 0
"""
import argparse
import importlib.util
import json
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))

from spact_mm.datasets.synthetic.faces import generate_face_dataset  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Generate the face-centric synthetic benchmark (deterministic).',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--root', default='data/synthetic-faces', help='output directory')
    parser.add_argument('--seed', type=int, default=0, help='seed of every random stream')
    parser.add_argument('--clips-per-identity-action', type=int, default=3,
                        help='training clips per identity and action')
    parser.add_argument('--val-clips-per-identity-action', type=int, default=1,
                        help='validation clips per identity and action')
    parser.add_argument('--num-frames', type=int, default=16, help='frames per video')
    parser.add_argument('--size', type=int, default=96, help='frame height and width')
    parser.add_argument('--fps', type=int, default=8, help='frame rate of the mp4 files')
    parser.add_argument('--num-identities', type=int, default=24, help='identities')
    parser.add_argument('--overwrite', action='store_true',
                        help='regenerate even if ROOT already holds the same dataset')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Generate (or reuse) the dataset and print its counts."""
    args = parse_args(argv)
    meta = generate_face_dataset(
        args.root, seed=args.seed, clips_per_identity_action=args.clips_per_identity_action,
        val_clips_per_identity_action=args.val_clips_per_identity_action,
        num_frames=args.num_frames, size=args.size, fps=args.fps,
        num_identities=args.num_identities, overwrite=args.overwrite)
    print(json.dumps(dict(params=meta['params'], counts=meta['counts'])))
    return meta


if __name__ == '__main__':
    main()
