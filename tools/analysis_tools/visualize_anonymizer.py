"""Raw-versus-anonymized frame grid of any f_A checkpoint on any videos, as a PNG.

A thin CLI over :func:`spact_mm.apis.video_anonymization_grid`; run with ``-h``.
"""
import argparse
import importlib.util
import os.path as osp
import sys
from typing import List, Optional

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.apis.inference import init_anonymizer, video_anonymization_grid  # noqa: E402
from spact_mm.visualization import save_grid  # noqa: E402

_TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _TOOLS not in sys.path:  # tools/anonymize_video.py, whose f_A options this tool shares
    sys.path.insert(0, _TOOLS)
from anonymize_video import add_anonymizer_args  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    """``tools/analysis_tools/visualize_anonymizer.py``: a raw-vs-anonymized PNG."""
    parser = argparse.ArgumentParser(
        description='Draw raw (top) versus anonymized (bottom) frames of videos as a PNG.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('videos', nargs='+', help='video files (one row pair each)')
    add_anonymizer_args(parser)
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--num-frames', type=int, default=6, help='frames per video')
    parser.add_argument('--scale', type=int, default=1, help='integer upscaling of the grid')
    args = parser.parse_args(argv)
    anonymizer = init_anonymizer(args.config, args.checkpoint, args.device)
    grid = video_anonymization_grid(anonymizer, args.videos, args.num_frames, args.scale)
    print(f'wrote {save_grid(grid, args.out)} ({grid.shape[1]}x{grid.shape[0]})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
