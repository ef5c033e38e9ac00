"""Per-layer time of f_A's convolutions: eager oneDNN, prepacked oneDNN, ONNX Runtime.

Prints, for every ``nn.Conv2d`` of a fused f_A (conv + ReLU where the ReLU follows), the
time of one call at the input shape it sees on one frame: ``F.conv2d`` + ReLU in
channels-last (oneDNN reorders the weight on every call), the same with the weight
reordered once (:class:`spact_mm.apis.conv_prepack.PrepackedConv2d`), and, with the
``deploy`` extra, ONNX Runtime on a one-conv model. Figures: docs/benchmark.md,
"Prepacked weights". Example::

    python tools/analysis_tools/benchmark_conv_prepack.py --anonymizer paper --size 112 112
"""
import argparse
import copy
import importlib.util
import io
import os
import os.path as osp
import sys
import time
import warnings
from typing import Callable, Optional, Sequence, Tuple

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # as the other benchmarks (read at import)
if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
if osp.dirname(osp.abspath(__file__)) not in sys.path:
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from anonymizer_benchmark import ANONYMIZERS, build_anonymizer  # noqa: E402


def best_ms(fn: Callable[[], object], calls: int, rounds: int) -> float:
    """Best mean time (ms) of ``calls`` calls over ``rounds`` rounds, after 2 warm-up calls."""
    fn()
    fn()
    best = float('inf')
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e3


def time_layer(conv: nn.Conv2d, relu: bool, shape: torch.Size, threads: int, calls: int,
               rounds: int, ort=None) -> Tuple[float, float, Optional[float]]:
    """ms per call of one conv (+ ReLU): eager, prepacked, ONNX Runtime (``None``
    without ``ort``, the onnxruntime module)."""
    from spact_mm.apis.conv_prepack import PrepackedConv2d

    x = torch.rand(shape).contiguous(memory_format=torch.channels_last)
    pre = PrepackedConv2d(conv, 'relu' if relu else 'none')
    with torch.inference_mode():
        eager = best_ms(lambda: F.relu(conv(x)) if relu else conv(x), calls, rounds)
        packed = best_ms(lambda: pre(x), calls, rounds)
    if ort is None:
        return eager, packed, None
    one = nn.Sequential(copy.deepcopy(conv).to(memory_format=torch.contiguous_format),
                        *([nn.ReLU()] if relu else [])).eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(one, (x.contiguous(), ), buf, dynamo=False, input_names=['x'])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
    sess = ort.InferenceSession(buf.getvalue(), opts, providers=['CPUExecutionProvider'])
    feed = {'x': x.contiguous().numpy()}
    return eager, packed, best_ms(lambda: sess.run(None, feed), calls, rounds)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the per-layer table; returns the exit status 0."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--anonymizer', default='paper',
                        help=f'f_A name ({", ".join(ANONYMIZERS)}) or config path')
    parser.add_argument('--size', nargs=2, type=int, default=[112, 112], metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--calls', type=int, default=10, help='calls per round')
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args(argv)

    from spact_mm.apis.backends import TorchAnonymizer, retain_freed_memory
    from spact_mm.apis.conv_prepack import prepack_available

    if not prepack_available():
        print('error: this PyTorch build has no oneDNN prepacking ops', file=sys.stderr)
        return 1
    retain_freed_memory()
    torch.set_num_threads(args.threads)
    runner = TorchAnonymizer(build_anonymizer(args.anonymizer), prepack=False,
                             retain_memory=False)
    seen = []  # (conv, fused ReLU, input shape) in call order
    relu_of = {id(m.conv): True for m in runner.module.modules()
               if hasattr(m, 'activate') and isinstance(m.activate, nn.ReLU)}
    hooks = [m.register_forward_hook(
        lambda mod, inp, out: seen.append((mod, relu_of.get(id(mod), False), inp[0].shape)))
        for m in runner.module.modules() if type(m) is nn.Conv2d]
    runner._run(torch.rand(1, 3, *args.size))
    for h in hooks:
        h.remove()
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    print(f'# {args.anonymizer} at {args.size[0]}x{args.size[1]}, {args.threads} threads, '
          f'OMP_WAIT_POLICY={os.environ.get("OMP_WAIT_POLICY")}; ms per call')
    print('| in -> out channels, map | kernel | eager | prepacked | onnxruntime |')
    print('| --- | --- | --- | --- | --- |')
    for conv, relu, shape in seen:
        eager, packed, onnx_ms = time_layer(conv, relu, shape, args.threads, args.calls,
                                            args.rounds, ort)
        print(f'| {conv.in_channels} -> {conv.out_channels}, {shape[2]}x{shape[3]} | '
              f'{conv.kernel_size[0]}x{conv.kernel_size[1]} | {eager:.2f} | {packed:.2f} | '
              f'{"-" if onnx_ms is None else f"{onnx_ms:.2f}"} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
