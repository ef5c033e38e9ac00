"""Export an f_A to ONNX (dynamic batch, time and spatial sizes) and check it against PyTorch.

A thin CLI over :func:`spact_mm.apis.backends.export_onnx_main`; run with ``-h``.
Needs the optional ``deploy`` extra (``pip install "spact_mm[deploy]"``). Examples::

    python tools/deployment/export_onnx.py --anonymizer-config CONFIG --checkpoint final.pth \
        --out work_dirs/deploy/f_a.onnx
    python tools/deployment/export_onnx.py --baseline bdq-fixed --out work_dirs/deploy/bdq.onnx
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.apis.backends import export_onnx_main  # noqa: E402

if __name__ == '__main__':
    sys.exit(export_onnx_main())
