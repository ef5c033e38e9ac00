"""Merge protocol ``results.json`` files into a markdown table (Tables 1/2 layout).

    python tools/analysis_tools/results_table.py work_dirs/comparison/*/*/results.json \
        --out work_dirs/comparison/tables.md
"""
import argparse
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.evaluation.reporting import format_results_table, load_results  # noqa: E402


def main() -> None:
    """Parse arguments, print the table and optionally write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('results', nargs='+', help='results.json files')
    parser.add_argument('--out', help='markdown file to write')
    args = parser.parse_args()
    table = format_results_table(load_results(args.results))
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table)


if __name__ == '__main__':
    main()
