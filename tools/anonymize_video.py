"""Anonymize a video, or every video in a folder, with a trained SPAct f_A.

A thin CLI over :func:`spact_mm.apis.anonymize_video_main`; run with ``-h``.
Exit status 1 when some video could not be read or ended before the frame count
its container declares (the others are still written; ``--allow-truncated`` keeps
short videos), 2 when ``--out`` would overwrite an input (nothing is written).
Each output is written under a temporary name and renamed when complete.
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from spact_mm.apis import anonymize_video_main  # noqa: E402

if __name__ == '__main__':
    sys.exit(anonymize_video_main())
