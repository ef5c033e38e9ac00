"""spact_mm.utils.compat on the installed mmaction2 (CI runs this on 1.1.0 and on 1.2.0)."""
import mmaction
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmpretrain.structures import DataSample

from spact_mm.testing import random_batch
from spact_mm.utils import compat


def test_flags_match_the_installed_mmaction2():
    """The version flag follows mmaction.__version__, and the setter it picks exists."""
    assert compat.MMACTION2_GE_1_2 == (tuple(int(v) for v in mmaction.__version__.split('.')[:2])
                                       >= (1, 2))
    new, old = hasattr(ActionDataSample, 'set_gt_label'), hasattr(ActionDataSample, 'set_gt_labels')
    assert (new, old) == ((True, False) if compat.MMACTION2_GE_1_2 else (False, True))


@pytest.mark.parametrize('value', [3, [3], torch.tensor([3])])
def test_gt_label_round_trip(value):
    sample = compat.set_gt_label(ActionDataSample(), value)
    assert compat.GT_LABEL_FIELD in sample  # stored under the installed name
    assert compat.get_gt_label(sample).tolist() == [3]
    assert compat.get_gt_label(sample.to_dict()).tolist() == [3]


def test_multi_hot_float_label_is_kept():
    target = torch.tensor([0., 1., 1., 0.])
    sample = compat.set_gt_label(ActionDataSample(), target)
    torch.testing.assert_close(compat.get_gt_label(sample), target)


def test_pred_score_and_label_on_action_and_mmpretrain_samples():
    scores = torch.tensor([0.1, 0.7, 0.2])
    action = ActionDataSample().set_pred_score(scores).set_pred_label(1)
    image = DataSample().set_pred_score(scores).set_gt_label([1])
    for sample in (action, action.to_dict(), image, image.to_dict()):
        torch.testing.assert_close(compat.get_pred_score(sample), scores)
    assert compat.get_pred_label(action).tolist() == [1]
    assert compat.get_gt_label(image).tolist() == [1]


def test_missing_field_is_named():
    with pytest.raises(KeyError, match='gt_label'):
        compat.get_gt_label(ActionDataSample())
    with pytest.raises(KeyError, match='pred_score'):
        compat.get_pred_score({})


def test_benchmark_batch_labels():
    """benchmark.random_batch (it crashed on 1.2) labels sample i with i % num_classes."""
    batch = random_batch(5, 2, 8, num_classes=3)
    assert [int(compat.get_gt_label(s)) for s in batch['data_samples']] == [0, 1, 2, 0, 1]
