"""Write a copy of any mmaction2 recognizer config with a frozen SPAct f_A in front.

A thin CLI over :func:`spact_mm.utils.deploy.put_anonymizer_in_front`; run with ``-h``.
"""
import argparse
import copy
import importlib.util
import os.path as osp
import sys
from pathlib import Path
from typing import Optional, Sequence

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.registry import MODELS  # noqa: E402
from spact_mm.utils.deploy import put_anonymizer_in_front  # noqa: E402


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``tools/deploy_anonymizer.py``: write a recognizer config with f_A in front."""
    parser = argparse.ArgumentParser(
        description='Write a copy of an mmaction2 recognizer config with a frozen SPAct f_A '
        'in front of it (use the result with tools/test.py or mmaction.apis).',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('recognizer_config', help='any mmaction2 recognizer config')
    parser.add_argument('--anonymizer-config', required=True,
                        help='spact_mm config whose model.data_preprocessor holds f_A')
    parser.add_argument('--checkpoint', default=None, help='checkpoint holding f_A')
    parser.add_argument('--out', required=True, help='output config (.py)')
    args = parser.parse_args(argv)
    cfg = put_anonymizer_in_front(args.recognizer_config, args.anonymizer_config,
                                  args.checkpoint)
    if args.checkpoint is None:
        print('warning: no --checkpoint: f_A in the written config keeps the weights of '
              f'{args.anonymizer_config} (its checkpoint entry, if any, or untrained ones, '
              'which for a UNet is close to the identity and hides nothing); pass the SPAct '
              "run's final.pth", file=sys.stderr)
    else:  # build f_A now: a checkpoint that does not fit is named here, not at test time
        try:
            MODELS.build(copy.deepcopy(cfg.model.data_preprocessor))
        except (ValueError, KeyError, RuntimeError, FileNotFoundError) as err:
            print(f'warning: {args.checkpoint} does not fit the f_A of '
                  f'{args.anonymizer_config}: {err}; the written config will fail to build '
                  'until the anonymizer or the checkpoint is changed', file=sys.stderr)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cfg.dump(args.out)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
