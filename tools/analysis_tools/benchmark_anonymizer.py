"""Frames/s, GFLOP/s and peak RSS of f_A per backend (eager, torch, onnxruntime) and size.

A thin CLI over :mod:`anonymizer_benchmark` (beside it); figures and commands
are in docs/benchmark.md. Example::

    nice -n 10 python tools/analysis_tools/benchmark_anonymizer.py --anonymizers demo camera \
        --sizes 112x112 640x480 --iters 5
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys
from typing import Optional, Sequence

# Idle OpenMP threads sleep instead of spinning (read once, at torch's import; an explicit
# OMP_WAIT_POLICY wins); ONNX Runtime's threads follow (spact_mm.apis.backends.passive_threads)
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
if osp.dirname(osp.abspath(__file__)) not in sys.path:  # the module beside it, under runpy too
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from anonymizer_benchmark import (  # noqa: E402
    ANONYMIZERS,
    BENCH_BACKENDS,
    HEADER,
    SIZES,
    benchmark,
)

from spact_mm.utils.checkpoint import atomic_write_bytes  # noqa: E402


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Measure, print the table (and write ``--json``); returns the exit status 0."""
    parser = argparse.ArgumentParser(
        description='frames/s, GFLOP/s and peak RSS of f_A per backend and frame size, with '
        'the ratio to ONNX Runtime measured in the same run.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--anonymizers', nargs='+', default=['demo', 'camera'],
                        help=f'f_A names ({", ".join(ANONYMIZERS)}) or config paths')
    parser.add_argument('--sizes', nargs='+', default=list(SIZES),
                        help='frame sizes, WxH')
    parser.add_argument('--backends', nargs='+', default=list(BENCH_BACKENDS),
                        choices=BENCH_BACKENDS)
    parser.add_argument('--iters', type=int, default=10, help='timed forward passes')
    parser.add_argument('--warmup', type=int, default=2, help='untimed forward passes first')
    parser.add_argument('--max-seconds', type=float, default=20.0,
                        help='time budget of the timed passes of one measurement')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads of every backend')
    parser.add_argument('--clip-len', type=int, default=8,
                        help='frames per clip of a clip-level f_A')
    parser.add_argument('--repeats', type=int, default=3,
                        help='rounds in which the backends take turns; the best round counts')
    parser.add_argument('--no-retain-memory', action='store_true',
                        help="keep glibc's default allocator settings (every large activation "
                        'mapped and page-faulted anew), as before retain_freed_memory')
    parser.add_argument('--batch', type=int, default=1,
                        help='frames (clips, for a clip-level f_A) per forward pass; '
                        'tools/anonymize_video.py passes --batch-size frames (default 16)')
    parser.add_argument('--no-prepack', action='store_true',
                        help='torch backends: let oneDNN reorder every conv weight on every '
                        'call, as before spact_mm.apis.conv_prepack')
    parser.add_argument('--no-adaptive-threads', action='store_true',
                        help='torch backends: always run --threads threads, instead of '
                        'one or --threads per input shape, whichever the first calls measured '
                        'faster (spact_mm.apis.thread_choice)')
    parser.add_argument('--interleave', action='store_true',
                        help='time the backends call by call, in turn (median call), instead '
                        'of in rounds (best round); --iters x --repeats calls each')
    parser.add_argument('--json', default=None, help='also write the rows as JSON here')
    args = parser.parse_args(argv)
    load = os.getloadavg() if hasattr(os, 'getloadavg') else None
    print(f'# {args.threads} threads, {os.cpu_count()} CPUs, load average '
          f'{" ".join(f"{v:.2f}" for v in load) if load else "unknown"}, '
          f'OMP_WAIT_POLICY={os.environ.get("OMP_WAIT_POLICY")}, '
          f'retain freed memory: {not args.no_retain_memory}, prepacked convs: '
          f'{not args.no_prepack}, adaptive threads: {not args.no_adaptive_threads}, '
          f'{args.batch} frame(s) or clip(s) per pass, '
          f'{"call by call (median)" if args.interleave else "in rounds (best)"}')
    print(HEADER)
    print('|' + ' --- |' * HEADER.count(' | ') + ' --- |')
    rows = benchmark(args.anonymizers, args.sizes, args.backends, args.iters, args.warmup,
                     args.max_seconds, args.threads, args.clip_len, args.repeats,
                     retain_memory=not args.no_retain_memory, batch=args.batch,
                     prepack=not args.no_prepack,
                     adaptive_threads=not args.no_adaptive_threads,
                     interleave=args.interleave)
    if args.json:
        atomic_write_bytes(json.dumps(dict(load_average=load, rows=rows), indent=1).encode(),
                           args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
