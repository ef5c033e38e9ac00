"""Classwise mAP and F1 against scikit-learn on the same arrays."""
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmpretrain.structures import DataSample
from sklearn.metrics import average_precision_score, f1_score

from spact_mm.evaluation import (
    ClasswiseMultiLabelMetric,
    classwise_average_precision,
    classwise_f1,
    classwise_map,
)
from spact_mm.utils.compat import set_gt_label


def _arrays(n=60, c=5, seed=0):
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, c)) < 0.4).astype(int)
    targets[0] = 1  # every class has a positive
    # informative but imperfect scores, continuous (no ties)
    scores = 1 / (1 + np.exp(-(2 * targets - 1) * rng.random((n, c)) * 3 - rng.normal(size=(n, c))))
    return scores, targets


def test_classwise_ap_and_map_match_sklearn():
    scores, targets = _arrays()
    ap = classwise_average_precision(scores, targets)
    ref = [average_precision_score(targets[:, k], scores[:, k]) for k in range(targets.shape[1])]
    np.testing.assert_allclose(ap, ref, atol=1e-6)
    assert classwise_map(scores, targets) == pytest.approx(100 * np.mean(ref), abs=1e-4)


def test_map_skips_classes_without_positives():
    scores, targets = _arrays(seed=1)
    targets[:, 2] = 0
    ap = classwise_average_precision(scores, targets)
    assert np.isnan(ap[2])
    ref = [average_precision_score(targets[:, k], scores[:, k]) for k in (0, 1, 3, 4)]
    assert classwise_map(scores, targets) == pytest.approx(100 * np.mean(ref), abs=1e-4)


@pytest.mark.parametrize('thr', [0.5, 0.3])
def test_classwise_f1_matches_sklearn(thr):
    scores, targets = _arrays(seed=2)
    scores[:, 1] = 0.01  # a class never predicted: F1 0 (zero_division=0)
    ref = f1_score(targets, (scores >= thr).astype(int), average='macro', zero_division=0)
    assert classwise_f1(scores, targets, thr=thr) == pytest.approx(ref, abs=1e-6)
    per_class = f1_score(targets, (scores >= thr).astype(int), average=None, zero_division=0)
    np.testing.assert_allclose(classwise_f1(scores, targets, thr=thr, average=None), per_class,
                               atol=1e-6)


def test_metric_reads_mmpretrain_and_mmaction_samples():
    scores, targets = _arrays(n=30, c=4, seed=3)
    expected = dict(cmap=classwise_map(scores, targets), f1=classwise_f1(scores, targets))
    for kind in ('mmpretrain', 'mmaction'):
        metric = ClasswiseMultiLabelMetric()
        samples = []
        for s, t in zip(scores, targets):
            if kind == 'mmpretrain':
                ds = DataSample().set_gt_label(np.flatnonzero(t).tolist())
                ds.set_pred_score(torch.tensor(s, dtype=torch.float32))
            else:  # multi-hot float label, as mmaction2 VideoDataset(multi_class=True)
                ds = set_gt_label(ActionDataSample(), torch.tensor(t, dtype=torch.float32))
                ds.set_pred_score(torch.tensor(s, dtype=torch.float32))
            samples.append(ds.to_dict())
        metric.process({}, samples)
        out = metric.evaluate(len(samples))
        assert out['privacy/cmap'] == pytest.approx(expected['cmap'], abs=1e-3)
        assert out['privacy/f1'] == pytest.approx(expected['f1'], abs=1e-6)
