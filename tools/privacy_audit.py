"""Privacy audit: what a determined attacker still recovers from an anonymizer's output.

Trains every attacker of :mod:`spact_mm.evaluation.privacy_audit` (two 2D
families, a 3D video attacker, logistic probes, a non-adaptive attacker,
ridge and conv inversion, re-identification) on f_A(train), tests on
f_A(val), and writes ``audit.json``, ``audit.md`` and ``audit.png``: a thin
CLI over :func:`spact_mm.evaluation.privacy_audit.main`.

Example::

    python tools/privacy_audit.py \
        configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py \
        --anonymizer raw --work-dir work_dirs/audit/same/raw --mode quick
    python tools/privacy_audit.py \
        configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py \
        --anonymizer work_dirs/demo/stage3/final.pth --work-dir work_dirs/audit/same/spact \
        --raw-audit work_dirs/audit/same/raw/audit.json
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.evaluation.privacy_audit import main  # noqa: E402

if __name__ == '__main__':
    main()
