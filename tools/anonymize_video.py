"""Anonymize a video, or every video in a folder, with a trained SPAct f_A.

A thin CLI over :mod:`spact_mm.apis.inference`; run with ``-h``.
Exit status 1 when some video could not be read or ended before the frame count
its container declares (the others are still written; ``--allow-truncated`` keeps
short videos), 2 when ``--out`` would overwrite an input (nothing is written).
Each output is written under a temporary name and renamed when complete.
"""
import argparse
import importlib.util
import os
import os.path as osp
import resource
import sys
from typing import List, Optional

# Idle OpenMP threads sleep instead of spinning: 2-4x faster on shared cores
# (docs/benchmark.md, section 5); read once at torch's import; an explicit value wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.apis.backends import BACKENDS, build_anonymizer_runner  # noqa: E402
from spact_mm.apis.inference import (  # noqa: E402
    OutputPathError,
    VideoReadError,
    anonymize_stream,
    anonymize_videos,
    init_anonymizer,
    is_live_source,
)

#: ``--method``: face anonymizers by name, each a config of configs/face (Haar face boxes).
FACE_METHODS = {
    'face': 'face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py',
    **{f'face-{m}': f'face-{m}_haar_synthetic-faces.py'
       for m in ('blur', 'pixelate', 'mask', 'noise')},
}


def peak_memory() -> str:
    """The process's peak resident memory so far, e.g. ``'1400 MiB peak resident memory'``.

    ``getrusage``'s ``ru_maxrss`` (KiB on Linux, bytes on macOS): what
    ``/usr/bin/time -v`` reports as "Maximum resident set size", except for the
    interpreter's exit after this line, which touches more shared-library pages
    (docs/benchmark.md, "A second host").
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kib = peak / 1024 if sys.platform == 'darwin' else peak
    return f'{kib / 1024:.0f} MiB peak resident memory'


def add_anonymizer_args(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add the f_A options: ``--anonymizer-config`` (alias ``--config``), ``--checkpoint``,
    ``--device``."""
    # The same name as tools/deploy_anonymizer.py; --config kept as an alias.
    parser.add_argument('--anonymizer-config', '--config', dest='config', required=required,
                        help='spact_mm config whose model.data_preprocessor holds f_A')
    parser.add_argument('--checkpoint', default=None,
                        help='checkpoint holding f_A (e.g. work_dirs/<stage-3 run>/final.pth)')
    parser.add_argument('--device', default=None, help='default: cuda:0 if available, else cpu')


def main(argv: Optional[List[str]] = None) -> int:
    """``tools/anonymize_video.py``: anonymize a video, a folder of videos, or a live source.

    Returns:
        The exit status: 0 if every video was written (or the live source was
        recorded until it ended, ``--max-frames`` or Ctrl-C), 1 if any failed
        (or ended early, without ``--allow-truncated``), 2 if ``--out`` would
        overwrite an input (nothing is written then).
    """
    parser = argparse.ArgumentParser(
        description='Anonymize videos, or a camera / stream, with a trained SPAct f_A.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('source', help='a video file, a folder of videos, a camera index '
                        '(e.g. 0) or a stream URL (rtsp://..., http://...)')
    add_anonymizer_args(parser, required=False)
    parser.add_argument('--method', choices=sorted(FACE_METHODS), default=None,
                        help='face anonymization: "face" (learned M; give --checkpoint) or a '
                        'face baseline; faces from OpenCV\'s Haar cascade, only faces change; '
                        'frames at full resolution unless --scale/--max-size')
    parser.add_argument('--out', required=True,
                        help='output video (for one input video or a live source) or folder; '
                        '"-" for a live source: raw bgr24 frames on stdout')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='frames per chunk (decode, f_A, encode); default 16 for files, '
                        '1 for a live source')
    parser.add_argument('--scale', type=float, default=None,
                        help='run f_A on frames resized by this factor (1: full resolution); '
                        'default: the size f_A was trained at (from the config), else full')
    parser.add_argument('--max-size', type=int, default=None,
                        help='run f_A with the longer frame side at most this many pixels')
    parser.add_argument('--backend', choices=BACKENDS, default='torch',
                        help='torch (fused, channels-last) or onnxruntime (optional extra: '
                        'pip install "spact_mm[deploy]")')
    parser.add_argument('--onnx', default=None,
                        help='ONNX file of f_A (tools/deployment/export_onnx.py) for '
                        '--backend onnxruntime; default: export f_A from the config in memory')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads of the backend (default: its own)')
    parser.add_argument('--compile', action='store_true',
                        help='torch backend: torch.compile f_A (about ONNX Runtime\'s speed on '
                        'CPUs after a compile of 10-30 s; needs a C++ compiler)')
    parser.add_argument('--onednn', action='store_true',
                        help='torch backend: run every conv as a oneDNN primitive built once per '
                        'frame size (less fixed cost per call; needs the deploy extra\'s oneDNN '
                        'and a C++ compiler, a build of about 30 s at first use)')
    parser.add_argument('--fixed-threads', action='store_true',
                        help='torch backend: always run all --threads, instead of one thread '
                        'or all per frame size, whichever the first passes measured faster')
    parser.add_argument('--tile', type=int, default=None,
                        help='run a UNet f_A on spatial tiles of this core side (pixels; same '
                        'output, bounded memory); 0: whole frames; default: 512 for frames '
                        'above 1280x720 at f_A\'s size')
    parser.add_argument('--side-by-side', action='store_true',
                        help='write raw | anonymized side by side')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--keep-ratio', type=float, default=None,
                        help='STPrivacy f_A: fraction of tubelets kept per frame, in [0, 1] '
                        "(default: the config's keep_ratio)")
    parser.add_argument('--allow-truncated', action='store_true',
                        help='keep the output of a video that ends before the frame count '
                             'its container declares (default: report it and exit 1)')
    live = parser.add_argument_group('live input (camera index, stream URL, or --live)')
    live.add_argument('--live', action='store_true',
                      help='read the source as a live stream even if it is a file (OpenCV '
                      'VideoCapture; stop with Ctrl-C)')
    live.add_argument('--max-frames', type=int, default=None,
                      help='stop a live source after this many frames')
    live.add_argument('--fps', type=float, default=None,
                      help='frame rate written for a live source (default: its own, else 25)')
    args = parser.parse_args(argv)
    if args.method is not None and args.config is None:
        from spact_mm.apis.demo import config_dir
        args.config = osp.join(config_dir(), 'face', FACE_METHODS[args.method])
    if args.config is None:
        parser.error('give --anonymizer-config (or --method)')
    if args.onednn and args.backend != 'torch':
        parser.error('--onednn is an option of --backend torch')
    if args.method == 'face' and args.checkpoint is None:
        parser.error('--method face needs --checkpoint (an untrained M leaves faces unchanged)')
    if args.method is not None and args.scale is None and args.max_size is None:
        args.scale = 1.0  # faces must keep their pixels for the detector
    if args.backend == 'onnxruntime' and args.onnx is not None and args.checkpoint is not None:
        print('warning: --onnx given: f_A comes from the ONNX file, --checkpoint only sets '
              'the trained size', file=sys.stderr)
    elif args.checkpoint is None:
        print('warning: no --checkpoint; f_A uses the config\'s checkpoint entry, if any, '
              'or untrained weights', file=sys.stderr)
    anonymizer = init_anonymizer(args.config, args.checkpoint, args.device)
    if args.keep_ratio is not None:
        from spact_mm.models.anonymizers.stprivacy import set_keep_ratio

        try:
            set_keep_ratio(anonymizer, args.keep_ratio)
        except ValueError as e:
            print(f'error: --keep-ratio: {e}', file=sys.stderr)
            return 1
    try:
        runner = build_anonymizer_runner(anonymizer, args.backend, args.onnx, args.threads,
                              compile=args.compile, tile=args.tile,
                              adaptive_threads=not args.fixed_threads, onednn=args.onednn)
    except (ImportError, FileNotFoundError, ValueError, RuntimeError) as e:
        print(f'error: backend {args.backend}: {e}', file=sys.stderr)
        return 1
    live_mode = args.live or is_live_source(args.source)
    try:
        if live_mode:
            res = anonymize_stream(runner, args.source, args.out, args.batch_size or 1,
                                   args.side_by_side, scale=args.scale, max_size=args.max_size,
                                   fps=args.fps, max_frames=args.max_frames,
                                   readout_every=0 if args.no_progress else 2.0)
            how = 'stopped by Ctrl-C' if res['interrupted'] else 'source ended or --max-frames'
            print(f'anonymized {res["frames"]} frames of {args.source} ({how}) in '
                  f'{res["seconds"]:.1f} s: {res["frames_per_second"]:.1f} frames/s '
                  f'(capture + f_A at {res["working_width"]}x{res["working_height"]} + encode, '
                  f'{runner.backend}), {peak_memory()}; wrote {args.out}',
                  file=sys.stderr if args.out == '-' else sys.stdout)
            return 0
        results, failures = anonymize_videos(runner, args.source, args.out,
                                             args.batch_size or 16, args.side_by_side,
                                             not args.no_progress,
                                             allow_truncated=args.allow_truncated,
                                             scale=args.scale, max_size=args.max_size)
    except OutputPathError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    except VideoReadError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    frames = sum(r['frames'] for r in results)
    seconds = sum(r['seconds'] for r in results)
    print(f'anonymized {len(results)} video(s), {frames} frames in {seconds:.1f} s: '
          f'{frames / max(seconds, 1e-9):.1f} frames/s (decode + f_A + encode, '
          f'{runner.backend} on {runner.device}), {peak_memory()}')
    face_f_a = getattr(runner, 'module', None)
    if hasattr(face_f_a, 'faces_found'):
        print(f'faces found: {face_f_a.faces_found} (face boxes anonymized; tracker miss rate '
              f'{100 * face_f_a.miss_rate:.1f}%: boxes held over a missed detection)')
    if failures:
        print(f'{len(failures)} video(s) failed:', file=sys.stderr)
        for path, msg in failures:
            print(f'  {path}: {msg}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
