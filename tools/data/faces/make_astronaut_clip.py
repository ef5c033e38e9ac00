"""Make the real-face test clip ``tests/data/faces/astronaut_pan/`` from a public-domain photo.

The photo is scikit-image's ``skimage.data.astronaut()``: NASA portrait of astronaut
Eileen Collins (NASA image, public domain in the United States; see
``tests/data/faces/SOURCE.md``). No download: the image ships inside scikit-image.

The clip pans a 320x320 window over rows 0-319 of the 512x512 photo, left edge from
x=40 to x=160 in ``--frames`` equal steps (rounded to whole pixels), and resizes each
window to 128x128 with OpenCV's INTER_AREA; frames are written as lossless PNG
(``frame_00.png``, ...), RGB. Deterministic: the same files every run.

Usage: python tools/data/faces/make_astronaut_clip.py [--out tests/data/faces/astronaut_pan]
"""
import argparse
import os
import os.path as osp
import tempfile

import cv2
import numpy as np


def astronaut_pan(frames: int = 12, size: int = 128) -> np.ndarray:
    """The panning clip (T, size, size, 3) uint8 RGB (see the module docstring)."""
    from skimage import data

    img = data.astronaut()
    starts = np.round(np.linspace(40, 160, frames)).astype(int)
    return np.stack([cv2.resize(img[0:320, x0:x0 + 320], (size, size),
                                interpolation=cv2.INTER_AREA) for x0 in starts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--out', default='tests/data/faces/astronaut_pan', help='output folder')
    parser.add_argument('--frames', type=int, default=12, help='frames of the clip')
    args = parser.parse_args()
    clip = astronaut_pan(args.frames)
    os.makedirs(args.out, exist_ok=True)
    for t, frame in enumerate(clip):
        path = osp.join(args.out, f'frame_{t:02d}.png')
        fd, tmp = tempfile.mkstemp(suffix='.png', dir=args.out)
        os.close(fd)
        cv2.imwrite(tmp, np.ascontiguousarray(frame[..., ::-1]))
        os.replace(tmp, path)  # atomic
    print(f'wrote {len(clip)} frames to {args.out}')


if __name__ == '__main__':
    main()
