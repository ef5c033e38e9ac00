"""Validation metric of stage 1: how close f_A is to the identity (Eq. 4)."""
from typing import Any, Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from spact_mm.registry import METRICS


@METRICS.register_module()
class ReconstructionMetric(BaseMetric):
    """Mean reconstruction error of :class:`AnonymizerReconstructor` outputs.

    Reports ``recon/l1`` (mean |x - x_hat| per pixel and channel, in [0, 1]
    units; the th_A0 stop rule of Eq. 6 compares this) and ``recon/l1_sum``
    (Eq. 4: the per-frame sum over C, H, W).
    """

    default_prefix = 'recon'

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append((float(sample['l1']), float(sample['l1_sum'])))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        arr = np.asarray(results, dtype=np.float64)
        return dict(l1=float(arr[:, 0].mean()), l1_sum=float(arr[:, 1].mean()))
