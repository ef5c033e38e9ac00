"""Privacy audit: what a determined attacker still recovers from an anonymizer's output.

Trains every attacker of :mod:`spact_mm.evaluation.privacy_audit` (two 2D
families, a 3D video attacker, logistic probes, a non-adaptive attacker,
ridge and conv inversion, re-identification) on f_A(train), tests on
f_A(val), and writes ``audit.json``, ``audit.md`` and ``audit.png``: a thin
CLI over :func:`spact_mm.evaluation.privacy_audit.run_audit`.

Example::

    python tools/privacy_audit.py \
        configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py \
        --anonymizer raw --work-dir work_dirs/audit/same/raw --mode quick
    python tools/privacy_audit.py \
        configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py \
        --anonymizer work_dirs/demo/stage3/final.pth --work-dir work_dirs/audit/same/spact \
        --raw-audit work_dirs/audit/same/raw/audit.json
    # a face f_A on the synthetic face benchmark (ground-truth face boxes)
    python tools/privacy_audit.py \
        configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-faces.py \
        --anonymizer face-blur --work-dir work_dirs/audit/faces/face-blur \
        --raw-audit work_dirs/audit/faces/raw/audit.json
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import Optional, Sequence

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from spact_mm.evaluation.privacy_audit import audit_with_raw, run_audit  # noqa: E402
from spact_mm.models.anonymizers.baselines import BASELINES, ORACLE_BASELINES  # noqa: E402
from spact_mm.models.anonymizers.face import FACE_BASELINES  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line of ``tools/privacy_audit.py``."""
    parser = argparse.ArgumentParser(
        description='Privacy audit: train fresh worst-case attackers on f_A output',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='protocol config (configs/protocols/...)')
    parser.add_argument('--anonymizer', required=True,
                        help='checkpoint holding f_A or a baseline: '
                        f'{", ".join(list(BASELINES) + list(ORACLE_BASELINES))}, or a face '
                        f'baseline on the annotated face boxes: {", ".join(FACE_BASELINES)}')
    parser.add_argument('--work-dir', required=True, help='where audit.json/.md/.png go')
    parser.add_argument('--mode', choices=('quick', 'full'), default='quick')
    parser.add_argument('--method', help='name in tables')
    parser.add_argument('--raw-audit', help='audit.json of the same protocol with raw')
    parser.add_argument('--with-raw', action='store_true',
                        help='also audit raw data (into WORK_DIR/raw, the anonymizer into '
                        'WORK_DIR/METHOD) with one decoding of the data, for the drops')
    parser.add_argument('--working-size', default=None,
                        help="run f_A at this short side in pixels, 'trained' (the size f_A "
                        "was trained at, as tools/anonymize_video.py does by default) or "
                        "'full' (the protocol's frames; the default), its output resized back")
    parser.add_argument('--face-boxes', choices=('gt', 'detector'), default='gt',
                        help="face f_A only (FaceAnonymizer, face-* baselines): 'gt' hands it "
                        "the data's annotated face boxes (an error if they have none), "
                        "'detector' lets its face detector find the faces")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--data-root', help="replace the config's data_root")
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the protocol config')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run :func:`run_audit` from the command line."""
    args = parse_args(argv)
    if args.with_raw:
        return audit_with_raw(args.config, args.anonymizer, args.work_dir, args.mode,
                              method=args.method, seed=args.seed, data_root=args.data_root,
                              cfg_options=args.cfg_options, progress=not args.no_progress,
                              working_size=args.working_size,
                              face_boxes=args.face_boxes)[1]
    return run_audit(args.config, args.anonymizer, args.work_dir, mode=args.mode,
                     method=args.method, raw_audit=args.raw_audit, seed=args.seed,
                     data_root=args.data_root, cfg_options=args.cfg_options,
                     progress=not args.no_progress, working_size=args.working_size,
                     face_boxes=args.face_boxes)


if __name__ == '__main__':
    main()
