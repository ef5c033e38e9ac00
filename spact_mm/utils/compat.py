"""mmaction2 1.1 / 1.2 compatibility of ``ActionDataSample`` fields.

mmaction2 1.2 renamed the label fields of ``ActionDataSample`` and stores them as
plain tensors instead of ``LabelData``:

=================================  ===========================
mmaction2 1.1                      mmaction2 1.2
=================================  ===========================
``set_gt_labels(v)``               ``set_gt_label(v)``
``sample.gt_labels.item``          ``sample.gt_label``
``sample.pred_scores.item``        ``sample.pred_score``
``sample.pred_labels.item``        ``sample.pred_label``
=================================  ===========================

(``set_pred_score`` and ``set_pred_label`` kept their names.) This module is the
one place that knows the difference; library code and tests go through it. The
readers also accept mmpretrain ``DataSample`` s (``gt_label``, ``pred_score``)
and the dicts that ``BaseDataElement.to_dict()`` and the metrics' ``results``
hold, so one call serves every sample type we meet.
"""
from typing import Any, Mapping, Sequence, Union

import mmaction
import numpy as np
import torch
from mmengine.utils import digit_version

#: The installed mmaction2 version, as a comparable tuple.
MMACTION2_VERSION = digit_version(mmaction.__version__)
#: True from mmaction2 1.2.0 on (tensor fields ``gt_label``, ``pred_score``, ``pred_label``).
MMACTION2_GE_1_2 = MMACTION2_VERSION >= digit_version('1.2.0')
#: Field names of the ground-truth label, score and predicted label on ``ActionDataSample``.
GT_LABEL_FIELD = 'gt_label' if MMACTION2_GE_1_2 else 'gt_labels'
PRED_SCORE_FIELD = 'pred_score' if MMACTION2_GE_1_2 else 'pred_scores'
PRED_LABEL_FIELD = 'pred_label' if MMACTION2_GE_1_2 else 'pred_labels'

LabelValue = Union[torch.Tensor, np.ndarray, Sequence[int], int]


def set_gt_label(sample: Any, value: LabelValue) -> Any:
    """Set the ground-truth action label of an ``ActionDataSample``, any mmaction2 1.x.

    Args:
        sample: The ``ActionDataSample``.
        value: The label (int, sequence, numpy array or tensor; a float tensor for
            multi-hot targets is kept as it is, as mmaction2's ``format_label`` does).

    Returns:
        The same sample, so that calls chain like mmaction2's setters.
    """
    if hasattr(sample, 'set_gt_label'):
        return sample.set_gt_label(value)
    return sample.set_gt_labels(value)


def _field(sample: Any, names: Sequence[str]) -> Any:
    for name in names:
        if isinstance(sample, Mapping):
            if name in sample:
                return sample[name]
        elif name in sample:  # BaseDataElement.__contains__ looks at data fields
            return getattr(sample, name)
    kind = type(sample).__name__
    raise KeyError(f'{kind} has none of the fields {", ".join(names)}')


def _unwrap(value: Any) -> Any:
    """``LabelData`` (1.1) or its ``to_dict()`` -> its ``item``; tensors as they are."""
    if isinstance(value, Mapping):
        return value['item']
    if hasattr(value, 'item') and not isinstance(value, (torch.Tensor, np.ndarray)):
        return value.item
    return value


def get_gt_label(sample: Any) -> Any:
    """The ground-truth label tensor of a data sample (1.1 ``gt_labels.item`` or ``gt_label``).

    Works on ``ActionDataSample`` of mmaction2 1.1 and 1.2, mmpretrain ``DataSample``
    and their ``to_dict()`` dicts.

    Raises:
        KeyError: if the sample has no ground-truth label.
    """
    return _unwrap(_field(sample, ('gt_label', 'gt_labels')))


def get_pred_score(sample: Any) -> Any:
    """The predicted class scores of a data sample (1.1 ``pred_scores.item`` or ``pred_score``).

    Raises:
        KeyError: if the sample has no scores.
    """
    return _unwrap(_field(sample, ('pred_score', 'pred_scores')))


def get_pred_label(sample: Any) -> Any:
    """The predicted label of a data sample (1.1 ``pred_labels.item`` or ``pred_label``).

    Raises:
        KeyError: if the sample has no predicted label.
    """
    return _unwrap(_field(sample, ('pred_label', 'pred_labels')))
