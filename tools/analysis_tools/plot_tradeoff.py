"""Action-vs-privacy trade-off plot (Fig. 4) from ``results.json`` files of one protocol.

    python tools/analysis_tools/plot_tradeoff.py work_dirs/comparison/novel/*/results.json \
        --out tradeoff.png
"""
import argparse
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.evaluation.reporting import load_results, plot_tradeoff  # noqa: E402


def main() -> None:
    """Parse arguments and draw the plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('results', nargs='+', help='results.json files (one protocol)')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--privacy', default='privacy_cmap', choices=['privacy_cmap',
                                                                      'privacy_f1'])
    parser.add_argument('--title')
    args = parser.parse_args()
    print(plot_tradeoff(load_results(args.results), args.out, privacy=args.privacy,
                        title=args.title))


if __name__ == '__main__':
    main()
