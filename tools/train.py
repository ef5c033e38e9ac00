"""Train a model from a config: a thin CLI over :mod:`spact_mm.apis.train`.

Same arguments as mmaction2's ``tools/train.py``; run ``python tools/train.py -h``.
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.apis import build_train_cfg, parse_train_args, train  # noqa: E402
from spact_mm.apis.train import MissingDataError  # noqa: E402


def main() -> None:
    """Parse ``sys.argv``, merge it into the config and train."""
    try:
        train(build_train_cfg(parse_train_args()))
    except MissingDataError as err:  # one line instead of a config dump and a traceback
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
