"""Privacy metrics of Sec. 4.1: classwise mAP (A_B^1) and classwise F1 (A_B^2).

Both are computed per attribute and then averaged over attributes ("classwise"),
as in Wu et al. [41] and Tables 1-6 of the paper. The per-class numbers come
from mmpretrain (``AveragePrecision.calculate`` and
``MultiLabelMetric.calculate``); this module only adds

- skipping classes without a positive test sample in the mAP (their AP is
  undefined; mmpretrain would count them as 0),
- reading both mmpretrain ``DataSample`` s (``pred_score``, ``gt_label`` /
  ``gt_score``) and mmaction2 1.1 ``ActionDataSample`` s (``pred_scores.item``,
  ``gt_labels.item``), so that one metric serves privacy attackers f'_B and
  multi-label action models f'_T (A_T^2, e.g. P-HVU),
- the paper's units: cMAP in percent, F1 in [0, 1].
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.evaluation import AveragePrecision, MultiLabelMetric

from spact_mm.registry import METRICS

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence]


def _as_2d(x: ArrayLike) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float64) if not isinstance(x, torch.Tensor)
                        else x).double()
    if t.dim() != 2:
        raise ValueError(f'expected an (N, num_classes) array, got shape {tuple(t.shape)}')
    return t


def classwise_average_precision(scores: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """Average precision of every class (mmpretrain's AP), NaN where undefined.

    Args:
        scores: Predicted scores, shape (N, C).
        targets: Multi-hot ground truth in {0, 1}, shape (N, C).

    Returns:
        AP in [0, 1] per class, shape (C,); NaN for classes without a positive.
    """
    scores, targets = _as_2d(scores), _as_2d(targets)
    if scores.shape != targets.shape:
        raise ValueError(f'scores {tuple(scores.shape)} and targets {tuple(targets.shape)} differ')
    ap = AveragePrecision.calculate(scores, targets, average=None).numpy() / 100.
    ap[targets.sum(0).numpy() == 0] = np.nan
    return ap


def classwise_map(scores: ArrayLike, targets: ArrayLike) -> float:
    """cMAP in percent: mean AP over the classes that have a positive sample."""
    ap = classwise_average_precision(scores, targets)
    if np.isnan(ap).all():
        raise ValueError('no class has a positive sample; cMAP is undefined')
    return float(np.nanmean(ap) * 100.)


def classwise_f1(scores: ArrayLike, targets: ArrayLike, thr: float = 0.5,
                 average: Optional[str] = 'macro') -> Union[float, np.ndarray]:
    """Classwise F1 in [0, 1]: per-class F1 of ``score >= thr``, averaged over classes.

    A class with no predicted and no true positive has F1 = 0 (as scikit-learn's
    ``f1_score(..., zero_division=0)``).

    Args:
        scores: Predicted scores (probabilities), shape (N, C).
        targets: Multi-hot ground truth, shape (N, C).
        thr: Decision threshold.
        average: ``'macro'`` (mean over classes) or ``None`` (per class).
    """
    scores, targets = _as_2d(scores), _as_2d(targets)
    _, _, f1, _ = MultiLabelMetric.calculate(
        scores.float(), targets.long(), pred_indices=False, target_indices=False,
        average=average, thr=thr)
    f1 = f1 / 100.
    return float(f1) if average is not None else f1.numpy()


def _sample_scores(sample: dict) -> torch.Tensor:
    if 'pred_score' in sample:
        return sample['pred_score']
    pred = sample['pred_scores']  # mmaction2 1.1: LabelData, a dict after ``to_dict``
    return pred['item'] if isinstance(pred, dict) else pred.item


def _sample_target(sample: dict, num_classes: int) -> torch.Tensor:
    if 'gt_score' in sample:
        return torch.as_tensor(sample['gt_score']).float()
    label = sample['gt_label'] if 'gt_label' in sample else sample['gt_labels']
    if not isinstance(label, torch.Tensor):
        label = label['item'] if isinstance(label, dict) else label.item
    label = torch.as_tensor(label)
    if label.is_floating_point() and label.numel() == num_classes:
        return label.float()  # multi-hot (e.g. mmaction2 ``multi_class=True``)
    target = torch.zeros(num_classes)
    target[label.long().flatten()] = 1.
    return target


@METRICS.register_module()
class ClasswiseMultiLabelMetric(BaseMetric):
    """cMAP (%) and classwise F1 of a multi-label classifier (Sec. 4.1).

    Used for the privacy attacker f'_B (A_B^1 = cMAP, A_B^2 = F1) and for
    multi-label action models (A_T^2 = cMAP).

    Returns ``{'cmap': ..., 'f1': ...}`` (prefixed, e.g. ``privacy/cmap``).

    Args:
        thr: Decision threshold of F1.
        prefix: Metric name prefix.
        collect_device: Where results are gathered in distributed evaluation.
    """

    default_prefix = 'privacy'

    def __init__(self, thr: float = 0.5, prefix: Optional[str] = None,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thr = thr

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store scores and multi-hot targets of a batch."""
        for sample in data_samples:
            scores = _sample_scores(sample).detach().cpu().float().flatten()
            target = _sample_target(sample, scores.numel())
            self.results.append((scores, target.cpu()))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """cMAP and F1 over all stored samples."""
        scores = torch.stack([r[0] for r in results])
        targets = torch.stack([r[1] for r in results])
        return dict(cmap=classwise_map(scores, targets),
                    f1=classwise_f1(scores, targets, self.thr))
