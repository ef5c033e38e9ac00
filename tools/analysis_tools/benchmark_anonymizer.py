"""Frames/s, GFLOP/s and peak RSS of f_A per backend (eager, torch, onnxruntime) and size.

A thin CLI over :mod:`spact_mm.apis.anonymizer_benchmark`; figures and commands
are in docs/benchmark.md. Example::

    nice -n 10 python tools/analysis_tools/benchmark_anonymizer.py --anonymizers demo camera \
        --sizes 112x112 640x480 --iters 5
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.apis.anonymizer_benchmark import benchmark_anonymizer_main  # noqa: E402

if __name__ == '__main__':
    sys.exit(benchmark_anonymizer_main())
