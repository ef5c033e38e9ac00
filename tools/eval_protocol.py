"""Evaluate an anonymizer under an evaluation protocol of SPAct (Sec. 4).

Trains a fresh action model f'_T and a fresh privacy attacker f'_B on the
anonymized training data, tests them on the anonymized test data and writes
``results.json``: a thin CLI over :func:`spact_mm.evaluation.protocol.main`.

Example::

    python tools/eval_protocol.py \
        configs/protocols/protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py \
        --anonymizer downsample-2x --work-dir work_dirs/protocols/cross/downsample-2x \
        --raw-results work_dirs/protocols/cross/raw/results.json
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.evaluation.protocol import main  # noqa: E402

if __name__ == '__main__':
    main()
