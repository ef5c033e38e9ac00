"""f_T + f_B in one mmaction2 recognizer."""
import copy
from typing import Dict, Optional, Tuple

import torch
from mmaction.models.recognizers import Recognizer3D
from mmaction.utils import SampleList

from spact_mm.models.heads.base_privacy_head import BasePrivacyHead, check_minimax_phase
from spact_mm.registry import MODELS

#: Prefix of the per-step copies of the losses in the logs (see ``parse_losses``).
STEP_LOG_PREFIX = {'anonymizer': 'step1/', 'adversary': 'step2/'}


@MODELS.register_module()
class SPActRecognizer(Recognizer3D):
    """mmaction2's ``Recognizer3D`` plus a privacy head.

    ``loss`` returns the recognizer's own losses (``loss_cls`` = L_T) and the
    privacy head's (its ``loss_key``: ``loss_ssl`` = L_B for the SSL heads,
    ``loss_privacy`` for the supervised ones), both computed on the anonymized
    batch that :class:`AnonymizerDataPreprocessor` produced. ``predict`` and
    ``tensor`` modes are those of ``Recognizer3D``: validation and testing
    behave as a normal recognizer on anonymized input. Which parameters each
    loss updates is the optim wrapper's business (:class:`MinimaxOptimWrapper`);
    the one thing the model learns from it is the phase of the iteration,
    through :meth:`set_minimax_phase`.

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
        if self.privacy_head is not None and not isinstance(self.privacy_head, BasePrivacyHead):
            raise TypeError(f'privacy_head must be a BasePrivacyHead (it takes the minimax '
                            f'phase and omega), got {type(self.privacy_head).__name__}')
        #: Phase of the current iteration (``None``: no minimax loop drives the model).
        self.minimax_phase: Optional[str] = None

    @property
    def with_privacy_head(self) -> bool:
        """Whether the recognizer has a privacy branch."""
        return self.privacy_head is not None

    @property
    def privacy_loss_key(self) -> Optional[str]:
        """Name of the privacy head's loss (``loss_ssl``, ``loss_privacy``), or ``None``."""
        return self.privacy_head.loss_key if self.with_privacy_head else None

    def set_minimax_phase(self, phase: Optional[str], ssl_weight: float) -> None:
        """Enter minimax step 1 or 2 (Sec. 3.3); called once per iteration, before the forward.

        :class:`MinimaxOptimWrapper` calls it from ``optim_context``. The
        phase and omega go to the privacy head (:meth:`BasePrivacyHead.
        set_minimax_phase`): its reversal layer's weight becomes omega of
        Eq. 9, and heads whose objective depends on the step read the phase.
        The recognizer keeps the phase to log each step's losses apart
        (:meth:`parse_losses`).

        Args:
            phase: ``'anonymizer'`` (step 1, Eq. 9), ``'adversary'`` (step 2,
                Eq. 7, 8) or ``None`` (leave the minimax loop).
            ssl_weight: omega of Eq. 9.
        """
        check_minimax_phase(phase)
        self.minimax_phase = phase
        if self.with_privacy_head:
            self.privacy_head.set_minimax_phase(phase, ssl_weight)

    def parse_losses(self, losses: Dict[str, torch.Tensor]
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """mmengine's sum of the ``loss`` terms, with each step's losses also logged apart.

        In a minimax loop the same keys (``loss_cls``, ``loss_ssl``, ...) hold
        step-1 values on some iterations and step-2 values on others, and the
        logger shows a mean over both. The total is mmengine's, unchanged; the
        logged values are repeated as ``step1/<key>`` or ``step2/<key>``
        (after the sum is taken, so they are not added twice), so that each
        step has its own curve in the text log and TensorBoard (the mean over
        that step's last ``window_size`` iterations).
        """
        loss, log_vars = super().parse_losses(losses)
        prefix = STEP_LOG_PREFIX.get(self.minimax_phase)
        if prefix is not None:
            for key in [k for k in log_vars if 'loss' in k]:
                log_vars[prefix + key] = log_vars[key]
        return loss, log_vars

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
            Loss dict with ``loss_cls`` and, with a privacy head, its
            ``loss_key`` (``loss_ssl``).
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
