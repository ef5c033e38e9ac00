"""Time SPAct's minimax iteration against the released code's loop structure.

Also measures the cost of privacy at inference: clips/s of a stock recognizer
with and without ``AnonymizerDataPreprocessor`` in front. A thin CLI over
:mod:`minimax_benchmark` (beside it); figures and commands are in docs/benchmark.md.

Example::

    python tools/analysis_tools/benchmark_minimax.py --scale demo --iters 10
    python tools/analysis_tools/benchmark_minimax.py --scale paper --device cuda --amp
"""
import argparse
import json
import os.path as osp
import sys
from typing import Optional, Sequence

import torch

if osp.dirname(osp.abspath(__file__)) not in sys.path:  # the module beside it, under runpy too
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--scale', choices=('demo', 'paper'), default='demo',
                   help='demo: tiny nets, 8x32x32 clips, batch 16; paper: UNet, R3D-18, '
                   'ResNet-50, 16x112x112 clips, batch 8')
    p.add_argument('--iters', type=int, default=10, help='timed iterations per loop')
    p.add_argument('--warmup', type=int, default=2, help='untimed iterations first')
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--amp', action='store_true', help='mixed precision (CUDA only)')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--frozen-branches-eval', action='store_true',
                   help="both loops run the networks a step does not update in eval mode, as "
                   "the released code does (MinimaxOptimWrapper's frozen_branches_eval)")
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--skip-inference', action='store_true')
    p.add_argument('--breakdown', action='store_true',
                   help='also time f_A, f_T and f_B alone (forward, input-grad, weight-grad '
                   'backward) and print the speedup this cost split predicts')
    p.add_argument('--out', default=None, help='also write the figures to this JSON file')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the benchmarks and print their figures."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from minimax_benchmark import benchmark_inference, benchmark_minimax, branch_costs

    import spact_mm  # noqa: F401

    res = dict(minimax=benchmark_minimax(
        args.scale, iters=args.iters, warmup=args.warmup, batch_size=args.batch_size,
        device=args.device, amp=args.amp, channels_last=args.channels_last,
        frozen_branches_eval=args.frozen_branches_eval))
    m = res['minimax']
    print(f"minimax ({args.scale}, {args.device}, amp={args.amp}, channels_last="
          f"{args.channels_last}, frozen_branches_eval={args.frozen_branches_eval}, "
          f"batch {m['batch_size']} x {m['clip_len']}x{m['size']}x{m['size']}, "
          f"{m['iters']} timed iterations)")
    print(f"  ours      {m['ours_s'] * 1e3:9.1f} ms/iter  (step 1 {m['ours_step1_s'] * 1e3:.1f}, "
          f"step 2 {m['ours_step2_s'] * 1e3:.1f})  peak +{m['ours_peak_mib']:.0f} MiB")
    print(f"  reference {m['reference_s'] * 1e3:9.1f} ms/iter  (step 1 "
          f"{m['reference_step1_s'] * 1e3:.1f}, step 2 {m['reference_step2_s'] * 1e3:.1f})  "
          f"peak +{m['reference_peak_mib']:.0f} MiB")
    print(f"  speedup {m['speedup']:.2f}x   max |loss difference| {m['max_loss_diff']:.3g}")
    if args.breakdown:
        res['breakdown'] = b = branch_costs(args.scale, batch_size=args.batch_size,
                                            device=args.device)
        print('per-branch cost, ms (median): fwd = forward only; in / w / both = forward + '
              'backward building input / weight / both gradients')
        for n in ('f_A', 'f_T', 'f_B'):
            print(f"  {n}  fwd {b[f'{n}_fwd_ms']:8.1f}  in {b[f'{n}_in_ms']:8.1f}  "
                  f"w {b[f'{n}_w_ms']:8.1f}  both {b[f'{n}_both_ms']:8.1f}")
        print(f"  predicted: reference {b['reference_step_ms']:.1f} ms/step, ours step 1 "
              f"{b['ours_step1_ms']:.1f} + step 2 {b['ours_step2_ms']:.1f} ms -> "
              f"{b['predicted_speedup']:.2f}x (f_A is {100 * b['f_A_share']:.0f}% of a "
              f"reference step; f_A-only bound {b['f_A_only_bound']:.2f}x)")
    if not args.skip_inference:
        res['inference'] = benchmark_inference(
            args.scale, iters=args.iters, warmup=args.warmup, batch_size=args.batch_size,
            device=args.device)
        i = res['inference']
        print(f"inference (batch {i['batch_size']}): stock recognizer "
              f"{i['stock_clips_per_s']:.1f} clips/s, with AnonymizerDataPreprocessor "
              f"{i['anonymized_clips_per_s']:.1f} clips/s ({i['slowdown']:.2f}x slower)")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == '__main__':
    main()
