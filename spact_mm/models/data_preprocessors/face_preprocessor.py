"""f_A's preprocessor for learned face anonymization: ground-truth face boxes and the L1 term."""
from typing import Dict, List, Optional

import torch

from spact_mm.registry import MODELS

from .anonymizer_preprocessor import AnonymizerDataPreprocessor


@MODELS.register_module()
class FaceAnonymizerDataPreprocessor(AnonymizerDataPreprocessor):
    """:class:`AnonymizerDataPreprocessor` that hands face boxes to a face f_A.

    When every data sample of an NCTHW batch carries ``face_boxes``
    (``PackFaceInputs``: the synthetic face benchmark's ground truth, in the
    decoded clip's pixels), the face f_A
    (:class:`~spact_mm.models.anonymizers.face.FaceAnonymizer` or a face
    baseline) gets them as ``boxes=`` instead of running its detector; without
    them it detects faces itself, so the same config anonymizes real video.

    In training the L1 term of Ren et al.'s objective, the size of the
    modification ``l1_weight * mean |M(c) - c|`` over the face crops, comes
    from f_A's ``pop_auxiliary_losses`` (the weight lives in f_A's config, so
    that :func:`~spact_mm.apis.inference.init_anonymizer` builds the same
    config as a plain :class:`AnonymizerDataPreprocessor`) as
    ``anonymizer_losses = dict(loss_face_l1=...)``, which
    :class:`SPActRecognizer` adds to its losses: minimax step 1 (M) minimises
    ``L_T - omega L_D + l1_weight L1``; step 2 does not see it (M is frozen).

    Args:
        use_gt_boxes: Use the samples' ``face_boxes`` when present.
        **kwargs: Arguments of :class:`AnonymizerDataPreprocessor`.
    """

    def __init__(self, use_gt_boxes: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.use_gt_boxes = bool(use_gt_boxes)
        self._frame_boxes: Optional[List[List[List[float]]]] = None

    def _boxes_of(self, data_samples) -> Optional[List[List[List[float]]]]:
        """Per-frame boxes of the batch (sample, view, frame order), or ``None``."""
        if (not self.use_gt_boxes or self.format_shape != 'NCTHW' or not data_samples
                or not all('face_boxes' in s for s in data_samples)):
            return None
        from spact_mm.models.heads.face_identity import face_boxes_of

        per_sample = [torch.as_tensor(s.face_boxes).shape[0] for s in data_samples]
        return [b.tolist() for b in face_boxes_of(data_samples, sum(per_sample))]

    def anonymize(self, inputs: torch.Tensor) -> torch.Tensor:
        """As :meth:`AnonymizerDataPreprocessor.anonymize`, with the batch's face boxes."""
        if not self.enabled or self._frame_boxes is None:
            return super().anonymize(inputs)
        unit = self.to_unit(inputs, 3)
        num_frames = unit.shape[:-4].numel() * unit.shape[-3]
        if len(self._frame_boxes) != num_frames:
            raise ValueError(f'{len(self._frame_boxes)} frames of face boxes for a batch of '
                             f'{num_frames} frames')
        return self.from_unit(self.anonymize_unit_clips(unit, boxes=self._frame_boxes), 3)

    def forward(self, data: dict, training: bool = False) -> Dict:
        """:meth:`AnonymizerDataPreprocessor.forward` with the batch's face boxes."""
        samples = data.get('data_samples') if isinstance(data, dict) else None
        self._frame_boxes = self._boxes_of(samples)
        try:
            data = super().forward(data, training)
        finally:
            self._frame_boxes = None
        return data
