"""Raw-versus-anonymized frame grid of any f_A checkpoint on any videos, as a PNG.

A thin CLI over :func:`spact_mm.apis.visualize_anonymizer_main`; run with ``-h``.
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.apis import visualize_anonymizer_main  # noqa: E402

if __name__ == '__main__':
    sys.exit(visualize_anonymizer_main())
