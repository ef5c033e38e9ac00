"""Privacy-image loading that accepts every common pixel format (policy in docs/reliability.md).

The released SPAct code silently dropped privacy images that were not 8-bit
RGB. Here every image is converted to 8-bit, 3-channel RGB (returned as BGR by
default, like mmcv/mmpretrain ``LoadImageFromFile``), with one documented rule
per format, and an image that cannot be decoded raises an error naming it.
"""
import io
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from spact_mm.registry import TRANSFORMS


class BadImageError(ValueError):
    """An image file that cannot be decoded or has an unsupported pixel format."""


def image_to_rgb_uint8(img, background: Sequence[int] = (255, 255, 255)) -> np.ndarray:
    """Convert a PIL image of any common mode to an ``H x W x 3`` uint8 RGB array.

    Rules (hand-written: Pillow's ``convert('RGB')`` drops alpha without
    compositing and clips 16-bit values instead of rescaling them):

    - RGB: unchanged. Grayscale (``L``, ``1``): the gray value in all three
      channels.
    - With alpha (``RGBA``, ``LA``, ``PA``, palette with transparency):
      composited over ``background`` (white by default), so transparent pixels
      do not show the arbitrary colour stored under them.
    - 16-bit (``I;16*``, ``I``): grayscale rescaled ``round(v * 255 / 65535)``.
      16-bit colour PNGs are reduced to 8 bits by Pillow itself (top byte).
    - CMYK (incl. Adobe's inverted CMYK JPEGs), YCbCr, LAB, HSV, palette:
      Pillow's conversion to RGB.
    - 32-bit float (``F``) and other modes: :class:`BadImageError` (no agreed
      value range to map from).

    Args:
        img: A ``PIL.Image.Image``.
        background: RGB colour under transparent pixels.

    Returns:
        uint8 array of shape (H, W, 3), RGB order.
    """
    mode = img.mode
    if mode == 'RGB':
        return np.asarray(img, dtype=np.uint8).copy()
    if mode in ('L', '1'):
        gray = np.asarray(img.convert('L'), dtype=np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode.startswith('I;16') or mode == 'I':
        arr = np.asarray(img).astype(np.float64)
        if arr.min() < 0 or arr.max() > 65535:
            raise BadImageError(f'integer image of mode {mode} with values outside 0..65535')
        gray = np.rint(arr * (255.0 / 65535.0)).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode in ('RGBA', 'LA', 'PA', 'La', 'RGBa') or (mode == 'P'
                                                      and 'transparency' in img.info):
        rgba = np.asarray(img.convert('RGBA'), dtype=np.float64)
        alpha = rgba[..., 3:] / 255.0
        out = rgba[..., :3] * alpha + np.asarray(background, np.float64) * (1 - alpha)
        return np.rint(out).astype(np.uint8)
    if mode in ('CMYK', 'YCbCr', 'LAB', 'HSV', 'P', 'RGBX'):
        return np.asarray(img.convert('RGB'), dtype=np.uint8).copy()
    raise BadImageError(f'unsupported pixel format (PIL mode {mode!r})')


def decode_image(content: bytes, background: Sequence[int] = (255, 255, 255)) -> np.ndarray:
    """Decode image bytes to ``H x W x 3`` uint8 RGB (see :func:`image_to_rgb_uint8`).

    The EXIF orientation is applied, as mmcv's cv2 backend does. Multi-frame
    files (GIF, TIFF) give their first frame.

    Raises:
        BadImageError: Empty, truncated or non-image content.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not content:
        raise BadImageError('empty file (0 bytes)')
    try:
        img = Image.open(io.BytesIO(content))
        img.load()
        img = ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise BadImageError(f'cannot decode image ({len(content)} bytes): {e}') from e
    return image_to_rgb_uint8(img, background)


@TRANSFORMS.register_module()
class LoadPrivacyImage(BaseTransform):
    """Load ``results['img_path']`` in any common pixel format, as 8-bit 3-channel.

    A drop-in for ``LoadImageFromFile`` in privacy image pipelines: the same
    output keys (``img``, ``img_shape``, ``ori_shape``), BGR channel order by
    default. Grayscale, RGBA, 16-bit and CMYK images are converted by the rules
    of :func:`image_to_rgb_uint8` instead of being dropped; an image that
    cannot be decoded raises :class:`BadImageError` naming the file (datasets
    with a bad-input policy, e.g. ``RobustPrivacyImageDataset``, add the
    annotation entry and may skip it instead).

    Args:
        channel_order: ``'bgr'`` (as mmcv/mmpretrain) or ``'rgb'``.
        to_float32: Return a float32 array.
        background: RGB colour under transparent pixels.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self, channel_order: str = 'bgr', to_float32: bool = False,
                 background: Sequence[int] = (255, 255, 255),
                 backend_args: Optional[dict] = None) -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'channel_order must be bgr or rgb, got {channel_order}')
        self.channel_order = channel_order
        self.to_float32 = to_float32
        self.background = tuple(int(c) for c in background)
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        from mmengine import fileio

        path = results['img_path']
        try:
            content = fileio.get(path, backend_args=self.backend_args)
            img = decode_image(content, self.background)
        except BadImageError as e:
            raise BadImageError(f'{path}: {e}') from e
        if self.channel_order == 'bgr':
            img = np.ascontiguousarray(img[..., ::-1])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(channel_order={self.channel_order!r}, '
                f'to_float32={self.to_float32}, background={self.background})')
