"""Transforms for privacy-labelled videos and images (Sec. 4, 5.2)."""
from typing import Dict

import numpy as np
import torch
from mmaction.datasets.transforms import PackActionInputs
from mmcv.transforms import BaseTransform

from spact_mm.registry import TRANSFORMS
from spact_mm.structures.bbox import OBFUSCATION_MODES, obfuscate_boxes


@TRANSFORMS.register_module()
class PackActionPrivacyInputs(PackActionInputs):
    """``PackActionInputs`` that also packs the multi-hot ``privacy_label``.

    The label lands in ``data_sample.privacy_label`` (float tensor of shape
    (num_attributes,)), read by :class:`SupervisedPrivacyHead` (the supervised
    method of [41]).
    """

    def transform(self, results: Dict) -> Dict:
        """Pack as mmaction2 does, plus ``privacy_label``."""
        packed = super().transform(results)
        if 'privacy_label' in results:
            packed['data_samples'].set_field(
                torch.as_tensor(np.asarray(results['privacy_label'], dtype=np.float32)),
                'privacy_label')
        return packed


@TRANSFORMS.register_module()
class ClipToImage(BaseTransform):
    """Turn a decoded one-frame clip (``imgs``) into an image (``img``).

    Lets a 2D privacy attacker f'_B (an mmpretrain image classifier) train on
    frames of privacy-labelled videos (same-dataset protocol, Sec. 4.1): put
    it after mmaction2's ``SampleFrames(clip_len=1)``, ``DecordDecode`` and
    ``Resize``, before mmpretrain's ``PackInputs``.

    Args:
        index: Which frame of ``imgs`` to take.
    """

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def transform(self, results: Dict) -> Dict:
        """Set ``img``, ``img_shape`` and ``ori_shape`` from ``imgs[index]``."""
        img = results.pop('imgs')[self.index]
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results.setdefault('ori_shape', img.shape[:2])
        return results


@TRANSFORMS.register_module()
class ObfuscatePersons(BaseTransform):
    """Oracle obfuscation: blacken or blur the ground-truth person boxes.

    The "oracle detector" variant of the obfuscation baselines (Sec. 5.2): the
    same :func:`obfuscate_boxes` as :class:`PersonObfuscationAnonymizer`, with
    the generator's boxes instead of a detector's. Put it right after
    decoding (``DecordDecode`` / ``LoadImageFromFile``), before any resize or
    crop, since the boxes are in the pixels of the stored frames.

    Boxes are read from ``person_boxes`` (one per video frame, picked with
    ``frame_inds``) for clips (``imgs``) and from ``person_box`` for images
    (``img``). A sample without boxes raises a ``KeyError`` naming its file:
    only the synthetic dataset knows its persons' boxes, and an oracle run on
    data without them would silently equal raw data. ``allow_missing=True``
    lets such samples pass unchanged.

    Args:
        mode: ``'blacken'``, ``'strong_blur'`` or ``'weak_blur'``.
        allow_missing: Pass samples without ground-truth boxes unchanged.
    """

    def __init__(self, mode: str = 'blacken', allow_missing: bool = False) -> None:
        if mode not in OBFUSCATION_MODES:
            raise ValueError(f'mode must be one of {list(OBFUSCATION_MODES)}, got {mode!r}')
        self.mode = mode
        self.allow_missing = allow_missing

    def transform(self, results: Dict) -> Dict:
        """Obfuscate every frame (or the image) in place."""
        if 'imgs' in results and 'person_boxes' in results:
            boxes = results['person_boxes']
            inds = np.asarray(results.get('frame_inds', np.arange(len(results['imgs']))))
            inds = inds.reshape(-1) % len(boxes)
            results['imgs'] = [obfuscate_boxes(img, [boxes[i]], self.mode)
                               for img, i in zip(results['imgs'], inds)]
        elif 'img' in results and 'person_box' in results:
            results['img'] = obfuscate_boxes(results['img'], [results['person_box']], self.mode)
        elif not self.allow_missing:
            name = results.get('filename') or results.get('img_path') or '<unknown file>'
            raise KeyError(f'{name}: no ground-truth person boxes (person_boxes / person_box) '
                           'for oracle obfuscation; only the synthetic dataset has them. Use a '
                           'detector baseline (obf-blackening, ...) on this data')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mode={self.mode!r}, '
                f'allow_missing={self.allow_missing})')
