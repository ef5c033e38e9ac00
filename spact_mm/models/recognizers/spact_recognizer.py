"""f_T + f_B in one mmaction2 recognizer."""
import copy
from typing import Optional

import torch
from mmaction.models.recognizers import Recognizer3D
from mmaction.utils import SampleList

from spact_mm.registry import MODELS


@MODELS.register_module()
class SPActRecognizer(Recognizer3D):
    """mmaction2's ``Recognizer3D`` plus a privacy head.

    ``loss`` returns the recognizer's own losses (``loss_cls`` = L_T) and the
    privacy head's (``loss_ssl`` = L_B), both computed on the anonymized batch
    that :class:`AnonymizerDataPreprocessor` produced. ``predict`` and
    ``tensor`` modes are those of ``Recognizer3D``: validation and testing
    behave as a normal recognizer on anonymized input. Which parameters each
    loss updates is the optim wrapper's business (:class:`MinimaxOptimWrapper`).

    Args:
        privacy_head: Config of the privacy branch (e.g. ``SSLPrivacyHead``);
            ``None`` gives a plain ``Recognizer3D`` ("no f_B" ablation).
        init_cfg: mmengine init config of the whole model, which mmaction2's
            ``BaseRecognizer`` does not take. Stage 3 starts from stage 2 with
            ``dict(type='Pretrained', checkpoint='<stage 2>/final.pth')``, applied
            by the Runner after the branches' own initialisation and before any
            resume, so that ``--resume`` and the stage hand-over are independent.
        **kwargs: Arguments of ``Recognizer3D`` (backbone, cls_head, neck,
            train_cfg, test_cfg, data_preprocessor).
    """

    def __init__(self,
                 *args,
                 privacy_head: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if init_cfg is not None:
            self.init_cfg = copy.deepcopy(init_cfg)  # BaseModule.init_weights reads it
        self.privacy_head = MODELS.build(privacy_head) if privacy_head is not None else None

    @property
    def with_privacy_head(self) -> bool:
        """Whether the recognizer has a privacy branch."""
        return self.privacy_head is not None

    def loss(self,
             inputs: torch.Tensor,
             data_samples: SampleList,
             aux_inputs: Optional[torch.Tensor] = None,
             **kwargs) -> dict:
        """L_T from the recognizer and L_B from the privacy head.

        Args:
            inputs: Anonymized clips (N, M, C, T, H, W).
            data_samples: Action data samples with ``gt_label``.
            aux_inputs: Optional anonymized auxiliary image views for the
                privacy head (cross-dataset protocol).
            **kwargs: ``anonymizer_losses``, f_A's own loss terms computed by
                the preprocessor (e.g. ``loss_tc`` of
                :class:`MinimaxAnonymizerDataPreprocessor`), are added as they
                are; the rest goes to ``Recognizer3D.loss``.

        Returns:
            Loss dict with ``loss_cls`` and, with a privacy head, ``loss_ssl``.
        """
        anonymizer_losses = kwargs.pop('anonymizer_losses', None) or {}
        kwargs.pop('raw_inputs', None)
        losses = super().loss(inputs, data_samples, **kwargs)
        losses.update(anonymizer_losses)
        if self.with_privacy_head:
            losses.update(self.privacy_head.loss(inputs, data_samples, aux_inputs=aux_inputs))
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: SampleList,
                aux_inputs: Optional[torch.Tensor] = None, **kwargs) -> SampleList:
        """``Recognizer3D.predict``; auxiliary images are ignored."""
        return super().predict(inputs, data_samples, **kwargs)
