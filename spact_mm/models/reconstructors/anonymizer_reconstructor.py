"""Stage 1 of SPAct: initialise f_A to the identity (Eq. 4, Eq. 6)."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from spact_mm.registry import MODELS


@MODELS.register_module()
class AnonymizerReconstructor(BaseModel):
    """Train f_A to reproduce its input with the L1 loss of Eq. 4.

    The model's data preprocessor is an :class:`AnonymizerDataPreprocessor`
    built with ``return_raw=True``; its anonymizer is f_A, so the checkpoint of
    this stage holds f_A under ``data_preprocessor.anonymizer.*``, exactly where
    the later stages (and :class:`AnonymizerDataPreprocessor`'s ``checkpoint``
    argument) look for it.

    Eq. 4 sums |x - x_hat| over C, H and W of one frame in [0, 1] pixel space;
    the training loss ``loss_l1`` is that sum averaged over all frames of the
    batch. ``predict`` returns, per clip, ``l1`` (the per-pixel mean, which is
    resolution independent and what the th_A0 stop rule compares) and
    ``l1_sum`` (Eq. 4 averaged over the clip's frames).

    With ``target=R`` (a parameter-free f_A config, see
    :class:`~spact_mm.models.anonymizers.clip_utils.FixedReference`), x in Eq. 4
    is replaced by R(x): f_A starts at the anchor R (e.g. the motion-only
    baseline) instead of the identity (a remedy of ours, not the paper's).

    Args:
        data_preprocessor: Config of the ``AnonymizerDataPreprocessor``.
        init_cfg: mmengine init config.
        target: ``None`` (reproduce the input, the paper's stage 1) or an anchor
            f_A config (reproduce its output; needs clips, format NCTHW).
    """

    def __init__(self, data_preprocessor: dict, init_cfg: Optional[dict] = None,
                 target: Optional[dict] = None) -> None:
        from spact_mm.models.anonymizers.clip_utils import FixedReference

        data_preprocessor = dict(data_preprocessor)
        data_preprocessor['return_raw'] = True
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if target is not None and self.data_preprocessor.format_shape != 'NCTHW':
            raise ValueError('a stage-1 target (anchor) needs clips (format_shape NCTHW), got '
                             f'{self.data_preprocessor.format_shape}')
        self.target = FixedReference(target) if target is not None else None

    def _per_frame_l1(self, inputs: torch.Tensor, raw_inputs: torch.Tensor) -> torch.Tensor:
        """Eq. 4 for every frame: (N, F) sums of |x - x_hat| over C, H, W."""
        pre = self.data_preprocessor
        tail = 3 if pre.format_shape == 'NCTHW' else 2
        reference = pre.to_unit(raw_inputs, tail)
        if self.target is not None:
            reference = self.target(reference)
        diff = (reference - pre.to_unit(inputs, tail)).abs()
        if pre.format_shape == 'NCTHW':
            diff = diff.movedim(-4, -3)  # (..., T, C, H, W)
        return diff.flatten(-3).sum(-1).flatten(1)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List] = None,
                mode: str = 'tensor',
                raw_inputs: Optional[torch.Tensor] = None) -> object:
        """mmengine's unified entry (``loss``, ``predict`` or ``tensor``)."""
        if mode == 'tensor':
            return inputs
        if raw_inputs is None:
            raise ValueError('AnonymizerReconstructor needs raw_inputs from its preprocessor')
        per_frame = self._per_frame_l1(inputs, raw_inputs)
        if mode == 'loss':
            return dict(loss_l1=per_frame.mean())
        if mode == 'predict':
            pre = self.data_preprocessor
            num_pixels = inputs.shape[-1] * inputs.shape[-2] * pre.anonymizer.in_channels
            out = []
            for row in per_frame:
                sample = BaseDataElement()
                sample.set_field(row.mean() / num_pixels, 'l1')
                sample.set_field(row.mean(), 'l1_sum')
                out.append(sample)
            return out
        raise RuntimeError(f'Invalid mode {mode!r}; use loss, predict or tensor')

    def val_step(self, data: Dict) -> List:
        """Preprocess (without augmentation) and predict."""
        data = self.data_preprocessor(data, False)
        return self(**data, mode='predict')

    test_step = val_step
