"""Speed and memory of a deployed f_A per backend and frame size (issue 17).

The module behind ``tools/analysis_tools/benchmark_anonymizer.py`` (it ships with
the tools, ``spact_mm/.mim/tools`` in an installed package, not in the library);
figures in docs/benchmark.md. For every f_A, frame size and backend it measures, in one
process and one run (so the ratios compare like with like):

- frames/s of f_A alone on one frame at a time (a camera's case; a clip-level
  f_A gets clips of ``clip_len`` frames, counted as ``clip_len`` frames), the
  best of ``repeats`` rounds in which the backends take turns (or, with
  ``interleave``, from the median call, the backends timed call by call in turn);
- GFLOP/s: the FLOPs of one frame, counted by ``torch.utils.flop_counter``
  (convolutions and matrix products; elementwise ops are not counted), times
  frames/s;
- peak RSS: the process's resident-set high-water mark (``VmHWM``) while the
  backend ran (its largest over the rounds), reset before each round through
  ``/proc/self/clear_refs`` where Linux allows it (else the process's peak so
  far), and its rise over the RSS before the round;
- the ratio of each backend's frames/s to ONNX Runtime's.

Backends: ``eager`` (f_A as trained: unfused, contiguous, ``no_grad``),
``torch`` (:class:`~spact_mm.apis.backends.TorchAnonymizer`: conv+BN fused,
channels-last, ``inference_mode``), ``torch-compile`` (the same, compiled by
``torch.compile`` with weight freezing; the compile runs in the untimed
warm-up), ``torch-onednn`` and ``torch-compile-onednn`` (the same two with every
conv a prebuilt oneDNN primitive, :mod:`spact_mm.apis.onednn_conv`; skipped without
the ``deploy`` extra's oneDNN). The torch backends run each input on one thread or on ``threads``,
whichever their first calls measured faster
(:class:`~spact_mm.apis.thread_choice.ThreadChoice`; the warm-up lasts until it
chose, and the ``threads`` column says what), ``onnxruntime``
(:class:`~spact_mm.apis.backends.OnnxRuntimeAnonymizer`, optional extra) and
``openvino`` (:class:`~spact_mm.apis.backends.OpenVinoAnonymizer`, the same ONNX
export in OpenVINO; skipped when openvino is not installed).
"""
import copy
import time
import warnings
from pathlib import Path
from statistics import median
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

from spact_mm.apis.demo import config_dir

#: f_A by name: a config whose ``model.data_preprocessor.anonymizer`` is f_A, or a baseline.
ANONYMIZERS: Dict[str, str] = {
    'demo': 'configs/_base_/models/spact_tiny.py',
    'camera': 'configs/spact-camera/spact-stage1_unet-camera_200iter_synthetic-a.py',
    'paper': 'configs/_base_/models/spact_r3d18_unet_r50.py',
    'motion-only': 'baseline',
    'bdq-fixed': 'baseline',
    'downsample-4x': 'baseline',
}
SIZES: Dict[str, Tuple[int, int]] = {
    '112x112': (112, 112), '640x480': (480, 640), '1920x1080': (1080, 1920)}
BENCH_BACKENDS = ('eager', 'torch', 'torch-compile', 'torch-onednn', 'torch-compile-onednn',
                  'onnxruntime', 'openvino')
#: The torch backends that compile (their first call, untimed, compiles).
COMPILED_BACKENDS = ('torch-compile', 'torch-compile-onednn')


def build_anonymizer(name: str) -> nn.Module:
    """f_A called ``name`` (see :data:`ANONYMIZERS`), or from a config path, untrained."""
    from mmengine.registry import DefaultScope

    from spact_mm.models.anonymizers import BASELINES
    from spact_mm.registry import MODELS

    source = ANONYMIZERS.get(name, name)
    if source == 'baseline':
        cfg = BASELINES[name]
    else:
        # config_dir(): the checkout's configs/, or the installed package's .mim/configs
        path = Path(source) if Path(source).is_file() else config_dir().parent / source
        if not path.is_file():
            raise FileNotFoundError(f'no f_A called {name!r} (known: {sorted(ANONYMIZERS)}) '
                                    f'and no config file {source}')
        cfg = Config.fromfile(str(path)).model.data_preprocessor.anonymizer
        cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    with DefaultScope.overwrite_default_scope('spact_mm'):
        return MODELS.build(copy.deepcopy(cfg)).eval()


def _rss_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); False if not allowed."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def frame_input(module: nn.Module, size: Tuple[int, int], clip_len: int) -> torch.Tensor:
    """One frame (1, 3, H, W), or one clip (1, 3, T, H, W) for a clip-level f_A,
    at ``size`` rounded up to f_A's size divisor."""
    from spact_mm.models.anonymizers.clip_utils import is_clip_level

    div = int(getattr(module, 'size_divisor', 1))
    h, w = (-(-s // div) * div for s in size)
    gen = torch.Generator().manual_seed(0)
    if is_clip_level(module):
        return torch.rand(1, 3, clip_len, h, w, generator=gen)
    return torch.rand(1, 3, h, w, generator=gen)


def flops_per_frame(module: nn.Module, x: torch.Tensor) -> float:
    """FLOPs of f_A on one frame, counted by ``torch.utils.flop_counter.FlopCounterMode``."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(x)
    frames = x.shape[0] * x.shape[2] if x.dim() == 5 else x.shape[0]
    return counter.get_total_flops() / frames


def _runner(module: nn.Module, backend: str, threads: int, retain_memory: bool = True,
            prepack: bool = True, adaptive_threads: bool = True):
    from spact_mm.apis.backends import (
        OnnxRuntimeAnonymizer,
        OpenVinoAnonymizer,
        TorchAnonymizer,
        export_onnx,
    )

    if backend == 'eager':
        eager = copy.deepcopy(module).eval()

        def run(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return eager(x)
        return run
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if backend.startswith('torch'):
            runner = TorchAnonymizer(module, compile=backend in COMPILED_BACKENDS,
                                     retain_memory=retain_memory, prepack=prepack,
                                     adaptive_threads=adaptive_threads,
                                     onednn=backend.endswith('-onednn'))
            return runner._run
        cls = OpenVinoAnonymizer if backend == 'openvino' else OnnxRuntimeAnonymizer
        runner = cls(export_onnx(module), num_threads=threads)
    return lambda x: runner.run_numpy(x.numpy())


def _torch_runner(run):
    """The :class:`TorchAnonymizer` whose bound ``_run`` is ``run``, else ``None``
    (eager, ONNX Runtime, OpenVINO)."""
    from spact_mm.apis.backends import TorchAnonymizer

    runner = getattr(run, '__self__', None)
    return runner if isinstance(runner, TorchAnonymizer) else None


def _threads_used(run, x: torch.Tensor) -> Optional[int]:
    """The thread count a torch runner (``run`` is its bound ``_run``) uses on ``x``."""
    runner = _torch_runner(run)
    if runner is None:
        return None
    chosen = runner.thread_choice and runner.thread_choice.threads_for(tuple(x.shape))
    return chosen or torch.get_num_threads()


def _finish_thread_trial(run, x: torch.Tensor) -> None:
    """Warm a torch runner up until its ``ThreadChoice`` chose for ``x``'s shape, so that
    the timed passes measure the chosen count, not the trial (which, compiled, compiles
    once per count)."""
    runner = _torch_runner(run)
    choice = runner.thread_choice if runner is not None else None
    if choice is None:
        return
    for _ in range(2 + 2 * choice.trials):
        if choice.threads_for(tuple(x.shape)) is not None:
            return
        run(x)


def _record_peak(st: Dict, peak: Optional[int], reset: bool, before: Optional[int]) -> None:
    """Fold one timed stretch's ``VmHWM`` (and its rise over ``before``) into ``st``."""
    if peak:
        st['peak'] = max(st['peak'] or 0, peak)
        if reset and before:
            st['rise'] = max(st['rise'] or 0, peak - before)


def _interleaved(runs: Dict, stats: Dict, x: torch.Tensor, frames: int, cycles: int,
                 seconds: float) -> None:
    """``benchmark(interleave=True)``: every backend timed once per cycle, in turn."""
    times: Dict[str, List[float]] = {backend: [] for backend in runs}
    reset = _reset_peak_rss()
    before = _rss_kb('VmRSS')
    n, start = 0, time.perf_counter()
    while n < cycles and (n == 0 or time.perf_counter() - start < seconds):
        for backend, run in runs.items():
            t = time.perf_counter()
            run(x)
            times[backend].append(time.perf_counter() - t)
        n += 1
    peak = _rss_kb('VmHWM')
    for backend, st in stats.items():
        st.update(fps=frames / median(times[backend]), iters=n)
        _record_peak(st, peak, reset, before)


def benchmark(anonymizers: Sequence[str] = ('demo', 'camera'),
              sizes: Sequence[str] = tuple(SIZES), backends: Sequence[str] = BENCH_BACKENDS,
              iters: int = 10, warmup: int = 2, max_seconds: float = 20.0, threads: int = 2,
              clip_len: int = 8, repeats: int = 3, retain_memory: bool = True,
              batch: int = 1, prepack: bool = True, adaptive_threads: bool = True,
              interleave: bool = False, logger=print) -> List[Dict]:
    """Measure every (f_A, size, backend); see the module docstring.

    The backends of one (f_A, size) take turns: ``repeats`` rounds, each timing
    ``iters`` passes of every backend, and each backend's best round counts
    (as ``timeit`` takes the best of its repeats). On a machine shared with
    other jobs the rounds see the same load, so the ratios between backends
    are steadier than the absolute figures.

    Args:
        anonymizers: Names of :data:`ANONYMIZERS` or config paths.
        sizes: Keys of :data:`SIZES` or ``'WxH'`` strings.
        backends: Of :data:`BENCH_BACKENDS`.
        iters: Timed forward passes per round (fewer if ``max_seconds`` runs
            out; at least 1).
        warmup: Untimed forward passes first (at least 1 for the compiled backends,
            whose compile they hold).
        max_seconds: Time budget of one round of one backend.
        threads: CPU threads of every backend (``torch.set_num_threads`` and
            ONNX Runtime's intra-op threads).
        clip_len: Frames per clip of a clip-level f_A.
        repeats: Rounds.
        retain_memory: Call :func:`~spact_mm.apis.backends.retain_freed_memory`
            first (process-wide, so every backend runs with it; the torch
            backend's default). ``False`` keeps glibc's default, which maps and
            page-faults every large activation anew (the figures before it).
        batch: Frames (clips, for a clip-level f_A) per forward pass.
        prepack: The torch backends' ``prepack`` (oneDNN weights reordered once,
            :mod:`spact_mm.apis.conv_prepack`); ``False`` gives the figures before it.
        adaptive_threads: The torch backends' ``adaptive_threads`` (one thread or
            ``threads`` per shape, measured on the first calls,
            :class:`~spact_mm.apis.thread_choice.ThreadChoice`); ``False`` always
            runs ``threads``, the figures before it.
        interleave: Time the backends call by call instead of in rounds: each
            of up to ``iters * repeats`` cycles (or ``max_seconds * repeats``
            per backend) calls every backend once, and frames/s comes from each
            backend's median call. Host drift then hits all backends alike, at
            the cost of each backend's caches being cold after the others ran.
            Peak RSS is then the process's over all backends together.
        logger: Called with one line per measurement.

    Returns:
        One dict per measurement: ``anonymizer, size, backend, frames_per_s,
        gflop_per_frame, gflop_per_s, peak_rss_mb, rss_rise_mb, iters,
        ratio_to_onnxruntime`` (``None`` without an onnxruntime row), ``threads``
        (the torch backends' thread count for this input, as their
        ``ThreadChoice`` chose it; ``None`` for the others, whose threads are
        ``threads``).
    """
    from spact_mm.apis.backends import retain_freed_memory

    if batch < 1:
        raise ValueError(f'batch must be >= 1, got {batch}')
    torch.set_num_threads(threads)
    if retain_memory:
        retain_freed_memory()
    rows = []
    for name in anonymizers:
        module = build_anonymizer(name)
        for size_name in sizes:
            w, h = (int(v) for v in (size_name.split('x') if size_name not in SIZES
                                     else (SIZES[size_name][1], SIZES[size_name][0])))
            x = frame_input(module, (h, w), clip_len)
            x = x.expand(batch, *x.shape[1:]).contiguous()
            frames = batch * (x.shape[2] if x.dim() == 5 else 1)
            flops = flops_per_frame(module, x)
            runs, stats = {}, {}
            for backend in backends:
                try:
                    runs[backend] = _runner(module, backend, threads, retain_memory, prepack,
                                            adaptive_threads)
                except ImportError as e:
                    logger(f'{name} {size_name} {backend}: skipped ({e})')
                    continue
                reset = _reset_peak_rss()
                before = _rss_kb('VmRSS')
                for _ in range(max(warmup, 1 if backend in COMPILED_BACKENDS else 0)):
                    runs[backend](x)
                _finish_thread_trial(runs[backend], x)
                stats[backend] = dict(fps=0.0, iters=0, peak=_rss_kb('VmHWM'),
                                      rise=None if not reset else 0, before=before)
            if interleave:
                _interleaved(runs, stats, x, frames, iters * max(repeats, 1),
                             max_seconds * max(repeats, 1) * len(runs))
            for _ in range(0 if interleave else max(repeats, 1)):
                for backend, run in runs.items():
                    st = stats[backend]
                    reset = _reset_peak_rss()
                    before = _rss_kb('VmRSS')
                    n, start = 0, time.perf_counter()
                    while n < iters and (n == 0 or time.perf_counter() - start < max_seconds):
                        run(x)
                        n += 1
                    fps = n * frames / (time.perf_counter() - start)
                    peak = _rss_kb('VmHWM')
                    if fps > st['fps']:
                        st.update(fps=fps, iters=n)
                    _record_peak(st, peak, reset, before)
            group = []
            for backend, st in stats.items():
                group.append(dict(
                    anonymizer=name, size=f'{w}x{h}', backend=backend,
                    frames_per_s=st['fps'], gflop_per_frame=flops / 1e9,
                    gflop_per_s=flops * st['fps'] / 1e9,
                    peak_rss_mb=st['peak'] / 1024 if st['peak'] else None,
                    rss_rise_mb=st['rise'] / 1024 if st['rise'] is not None else None,
                    iters=st['iters'], ratio_to_onnxruntime=None,
                    threads=_threads_used(runs[backend], x)))
            del runs
            ort = [r for r in group if r['backend'] == 'onnxruntime']
            for row in group:
                if ort:
                    row['ratio_to_onnxruntime'] = row['frames_per_s'] / ort[0]['frames_per_s']
                logger(format_row(row))
            rows.extend(group)
    return rows


HEADER = ('| f_A | size | backend | frames/s | GFLOP/frame | GFLOP/s | peak RSS (MB) | '
          'RSS rise (MB) | x ORT | iters | threads |')


def format_row(row: Dict) -> str:
    """One Markdown table row of :data:`HEADER`."""
    def num(v, fmt):
        return '-' if v is None else format(v, fmt)
    return (f'| {row["anonymizer"]} | {row["size"]} | {row["backend"]} | '
            f'{num(row["frames_per_s"], ".3g")} | {num(row["gflop_per_frame"], ".3g")} | '
            f'{num(row["gflop_per_s"], ".3g")} | {num(row["peak_rss_mb"], ".0f")} | '
            f'{num(row["rss_rise_mb"], ".0f")} | {num(row["ratio_to_onnxruntime"], ".2f")} | '
            f'{row["iters"]} | {num(row.get("threads"), "d")} |')


