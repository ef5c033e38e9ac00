"""Table (json) and plot of an STPrivacy keep_ratio sweep from its privacy audits.

    python tools/analysis_tools/stprivacy_keep_ratio.py AUDIT.json ... --out PREFIX

writes PREFIX.json and PREFIX.png (see tools/analysis_tools/stprivacy_demo.sh).
"""
import argparse
import json
import os
import sys
from typing import List, Optional

from spact_mm.evaluation.keep_ratio_sweep import plot_sweep, sweep_rows
from spact_mm.utils import atomic_write_bytes
from spact_mm.utils.checkpoint import atomic_output


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('audits', nargs='+', help='audit.json of methods keep-<ratio>')
    parser.add_argument('--out', required=True, help='output prefix (.json and .png)')
    parser.add_argument('--raw-audit', default=None,
                        help='raw audit.json of the same protocol and mode, for audits made '
                        'without --raw-audit')
    args = parser.parse_args(argv)
    raw = None
    if args.raw_audit is not None:
        with open(args.raw_audit) as f:
            raw = json.load(f)
    audits = []
    for path in args.audits:
        with open(path) as f:
            audits.append(json.load(f))
    try:
        rows = sweep_rows(audits, raw)
    except (KeyError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    atomic_write_bytes((json.dumps(rows, indent=1) + '\n').encode(), args.out + '.json')
    with atomic_output(args.out + '.png', '.tmp.png') as tmp:
        plot_sweep(rows, tmp)
    for r in rows:
        print(json.dumps(r))
    return 0


if __name__ == '__main__':
    sys.exit(main())
