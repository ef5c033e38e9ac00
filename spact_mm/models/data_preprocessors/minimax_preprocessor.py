"""f_A's preprocessor for the stage-3 minimax, with the remedies of issue 12.

:class:`MinimaxAnonymizerDataPreprocessor` is an
:class:`AnonymizerDataPreprocessor` (same layouts, same f_A, same inference
behaviour) that, in training only, adds two things the released code or the
shortcut analysis of issue 12 call for:

- ``ssl_views``: the two positive views of the contrastive f_B (Eq. 5) are made
  from **raw** frames (frame pairs drawn by the temporal sampler S_F from the
  raw clip) or from the raw auxiliary images, augmented per view
  (:class:`SSLViewAugmentation`) and only then anonymized by f_A, as the
  released code does. They reach the privacy head as ``aux_inputs``
  (N, 2, C, H, W), the layout :class:`SSLPrivacyHead` already takes as its two
  views; the head's own ``frame_sampler`` is then unused (S_F is this
  preprocessor's ``frame_sampler``).
- ``temporal_consistency``: a :class:`TemporalConsistencyLoss` of the
  anonymized clip against the raw clip, returned to the recognizer as
  ``anonymizer_losses`` (``dict(loss_tc=...)``), which
  :class:`SPActRecognizer` adds to its losses: minimax step 1 minimises it
  with L_T - w L_B, step 2 does not see it (f_A is frozen there).
- ``anchor_fidelity``: an :class:`AnchorFidelityLoss` of the anonymized clip
  against a fixed anchor's output, returned the same way (``loss_anchor``).

Both only run with ``training=True`` (mmengine's ``train_step``); validation,
testing and inference are those of :class:`AnonymizerDataPreprocessor`.
"""
from typing import Dict, Optional

import torch

from spact_mm.registry import MODELS

from .anonymizer_preprocessor import AnonymizerDataPreprocessor


@MODELS.register_module()
class MinimaxAnonymizerDataPreprocessor(AnonymizerDataPreprocessor):
    """:class:`AnonymizerDataPreprocessor` with SSL views before f_A and L_TC.

    Args:
        ssl_views: ``None`` (views are drawn by the privacy head from the
            anonymized clip, as before), or ``dict(frame_sampler=dict(mode=...,
            distance=...), augment=dict(type='SSLViewAugmentation', ...))``;
            ``augment=None`` gives un-augmented raw views. See the module
            docstring.
        temporal_consistency: ``None`` or a :class:`TemporalConsistencyLoss`
            config, computed on NCTHW clips in [0, 1] pixel units.
        anchor_fidelity: ``None`` or an :class:`AnchorFidelityLoss` config
            (NCTHW clips, [0, 1] pixel units).
        **kwargs: Arguments of :class:`AnonymizerDataPreprocessor`.
    """

    def __init__(self, ssl_views: Optional[dict] = None,
                 temporal_consistency: Optional[dict] = None,
                 anchor_fidelity: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ssl_views = None
        self.view_augment = None
        if ssl_views is not None:
            ssl_views = dict(ssl_views)
            unknown = set(ssl_views) - {'frame_sampler', 'augment'}
            if unknown:
                raise KeyError(f'unknown ssl_views keys {sorted(unknown)}; expected '
                               'frame_sampler, augment')
            sampler = dict(mode='random', distance=None)
            sampler.update(ssl_views.get('frame_sampler') or {})
            self.ssl_views = dict(frame_sampler=sampler)
            augment = ssl_views.get('augment', dict(type='SSLViewAugmentation'))
            self.view_augment = MODELS.build(augment) if augment is not None else None
        self.temporal_consistency = (MODELS.build(temporal_consistency)
                                     if temporal_consistency is not None else None)
        self.anchor_fidelity = (MODELS.build(anchor_fidelity)
                                if anchor_fidelity is not None else None)
        if self.anchor_fidelity is not None and self.format_shape != 'NCTHW':
            raise ValueError('anchor_fidelity needs clips (format_shape NCTHW), got '
                             f'{self.format_shape}')
        if self.temporal_consistency is not None and self.format_shape != 'NCTHW':
            raise ValueError('temporal_consistency needs clips (format_shape NCTHW), got '
                             f'{self.format_shape}')
        if (self.temporal_consistency is not None or self.anchor_fidelity is not None) and \
                getattr(self.preprocessor, 'blending', None) is not None:
            raise ValueError('temporal_consistency compares f_A(X) with X frame by frame; '
                             'batch blending (mixup/cutmix) after f_A would break that')
        if self.ssl_views is not None and self.format_shape != 'NCTHW':
            raise ValueError('ssl_views draws frame pairs from clips (format_shape NCTHW), got '
                             f'{self.format_shape}')

    def raw_view_pairs(self, raw_unit: torch.Tensor,
                       aux_uint8: Optional[torch.Tensor]) -> torch.Tensor:
        """The raw, [0, 1] view pairs (N', 2, C, H, W): of the auxiliary images if given,
        else two frames per clip drawn by S_F from the raw clips (N, M, C, T, H, W)."""
        if aux_uint8 is not None:
            if aux_uint8.dim() != 5 or aux_uint8.shape[1] != 2:
                raise ValueError('ssl_views needs two auxiliary views per sample, (N, 2, C, H, '
                                 f'W); got {tuple(aux_uint8.shape)}')
            return aux_uint8.float() / 255.
        from spact_mm.models.heads.ssl_privacy_head import sample_frame_pairs

        clips = raw_unit.flatten(0, 1) if raw_unit.dim() == 6 else raw_unit
        b, _, t = clips.shape[:3]
        t1, t2 = sample_frame_pairs(b, t, self.ssl_views['frame_sampler']['mode'],
                                    self.ssl_views['frame_sampler']['distance'],
                                    device=clips.device)
        rows = torch.arange(b, device=clips.device)
        return torch.stack([clips[rows, :, t1], clips[rows, :, t2]], dim=1)

    def forward(self, data: dict, training: bool = False) -> Dict:
        """:meth:`AnonymizerDataPreprocessor.forward`, plus (training) the SSL views
        made before f_A as ``aux_inputs`` and L_TC as ``anonymizer_losses``."""
        if not training or (self.ssl_views is None and self.temporal_consistency is None
                            and self.anchor_fidelity is None):
            return super().forward(data, training)
        aux = data.pop('aux_inputs', None) if self.ssl_views is not None else None
        keep_raw, self.return_raw = self.return_raw, True
        try:
            data = super().forward(data, training)
        finally:
            self.return_raw = keep_raw
        raw = data['raw_inputs'] if keep_raw else data.pop('raw_inputs')
        raw_unit = self.to_unit(raw, 3)
        if self.ssl_views is not None and self.enabled:
            aux_t = torch.stack([a.to(self.device) for a in aux]) if aux is not None else None
            views = self.raw_view_pairs(raw_unit, aux_t)
            if self.view_augment is not None:
                views = self.view_augment(views)
            data['aux_inputs'] = self.from_unit(self.anonymize_unit(views), 2)
        if self.temporal_consistency is not None and self.enabled:
            anonymized = self.to_unit(data['inputs'], 3)
            data.setdefault('anonymizer_losses', {})['loss_tc'] = self.temporal_consistency(
                anonymized, raw_unit)
        if self.anchor_fidelity is not None and self.enabled:
            anonymized = self.to_unit(data['inputs'], 3)
            data.setdefault('anonymizer_losses', {})['loss_anchor'] = self.anchor_fidelity(
                anonymized, raw_unit)
        return data
