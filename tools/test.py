"""Test (and evaluate) a checkpoint: a thin CLI over :mod:`spact_mm.apis.test`.

Same arguments as mmaction2's ``tools/test.py``; run ``python tools/test.py -h``.
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.apis import build_test_cfg, parse_test_args  # noqa: E402
from spact_mm.apis import test as run_test  # noqa: E402


def main() -> None:
    """Parse ``sys.argv``, merge it into the config and run the test loop."""
    run_test(build_test_cfg(parse_test_args()))


if __name__ == '__main__':
    main()
