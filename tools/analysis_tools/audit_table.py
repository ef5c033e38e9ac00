"""Tables and trade-off plots of privacy audits (``audit.json`` files of tools/privacy_audit.py).

Example::

    python tools/analysis_tools/audit_table.py work_dirs/audit/*/seed*/*/audit.json \
        --out docs/results/audit_tables.md --plot-dir docs/results
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.evaluation.reporting import (  # noqa: E402
    audit_as_results,
    format_attacker_table,
    format_audit_table,
    mean_over_seeds,
    ordered_protocols,
    plot_tradeoff,
)


def main() -> None:
    """Print the audit tables; optionally write them and one trade-off plot per protocol."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('audits', nargs='+', help='audit.json files')
    parser.add_argument('--out', help='markdown file to write')
    parser.add_argument('--plot-dir', help='folder for audit_tradeoff_{protocol}_{group}.png')
    args = parser.parse_args()
    audits = []
    for path in args.audits:
        with open(path) as f:
            audits.append(json.load(f))
    protocols = ordered_protocols(a['protocol'] for a in audits)
    text = ''
    for p in protocols:  # one headline table per protocol (three side by side are too wide)
        text += (f'## Headline figures, {p} (worst case over attackers)\n\n'
                 + format_audit_table([a for a in audits if a['protocol'] == p]) + '\n')
    for p in protocols:
        text += f'\n## Every attacker, {p}\n\n' + format_attacker_table(audits, p)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    if args.plot_dir:
        os.makedirs(args.plot_dir, exist_ok=True)
        for p in protocols:
            for group in ('person', 'scene'):
                sel = [audit_as_results(a, group) for a in audits
                       if a['protocol'] == p and group in a['worst_case']]
                if sel:
                    out = osp.join(args.plot_dir, f'audit_tradeoff_{p}_{group}.png')
                    plot_tradeoff(mean_over_seeds(sel), out,  # one point per method
                                  title=f'{p}: worst-case {group} cMAP vs fresh action top-1')
                    print(f'-> {out}')


if __name__ == '__main__':
    main()
