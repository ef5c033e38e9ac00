"""Write a copy of any mmaction2 recognizer config with a frozen SPAct f_A in front.

A thin CLI over :func:`spact_mm.utils.deploy.deploy_anonymizer_main`; run with ``-h``.
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.utils.deploy import deploy_anonymizer_main  # noqa: E402

if __name__ == '__main__':
    sys.exit(deploy_anonymizer_main())
