"""Pack the face boxes and identity of a clip for learned face anonymization."""
from typing import Dict

import numpy as np
import torch

from spact_mm.registry import TRANSFORMS

from .privacy_transforms import PackActionPrivacyInputs


@TRANSFORMS.register_module()
class PackFaceInputs(PackActionPrivacyInputs):
    """``PackActionPrivacyInputs`` that also packs ``face_boxes`` and ``identity``.

    The annotation's ``face_boxes`` hold a list of ``[x1, y1, x2, y2]`` boxes
    per *video* frame; this transform picks those of the decoded frames
    (``frame_inds``, all views in order), scales them from the video's size
    (``original_shape``) to the decoded clip's (the ``imgs`` after ``Resize``)
    and packs them as ``data_sample.face_boxes``: a float tensor (F, K, 4),
    F = decoded frames, K = the most faces in one frame, rows of -1 where a
    frame has fewer faces. ``identity`` becomes ``data_sample.identity``
    (a long tensor). Use it in place of ``PackActionInputs`` (no flips or crops
    between decoding and packing: boxes are only rescaled).
    """

    def transform(self, results: Dict) -> Dict:
        """Pack as ``PackActionPrivacyInputs``, plus the face boxes and identity."""
        packed = super().transform(results)
        sample = packed['data_samples']
        if 'face_boxes' in results:
            src = results['face_boxes']
            inds = np.asarray(results['frame_inds']).reshape(-1)
            inds = np.clip(inds, 0, len(src) - 1)
            oh, ow = results.get('original_shape', results['img_shape'])
            h, w = results['img_shape']
            scale = np.array([w / ow, h / oh, w / ow, h / oh], np.float32)
            k = max([len(src[i]) for i in inds] + [1])
            boxes = np.full((len(inds), k, 4), -1, np.float32)
            for j, i in enumerate(inds):
                for n, b in enumerate(src[i]):
                    boxes[j, n] = np.asarray(b, np.float32) * scale
            sample.set_field(torch.from_numpy(boxes), 'face_boxes')
        if 'identity' in results:
            sample.set_field(torch.tensor(int(results['identity'])), 'identity')
        return packed
