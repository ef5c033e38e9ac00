"""BDQ's hard quantizer without the (..., 2^bits - 1) comparison tensor (issue 17).

``LearnableQuantizer.hard_levels`` must give exactly the integers of the broadcast
sum ``sum_i 1[u > b_i]`` it replaces, and hold no tensor of that size.
"""
import subprocess
import sys

import pytest
import torch

from spact_mm.models.anonymizers import BDQEncoder, LearnableQuantizer


def broadcast_hard(u: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """The replaced formula: the (..., L-1) comparison, summed."""
    return (u.unsqueeze(-1) > levels).to(u.dtype).sum(-1)


@pytest.mark.parametrize('bits', [1, 4, 8])
def test_hard_levels_equal_the_broadcast_sum_exactly(bits):
    quant = LearnableQuantizer(bits=bits)
    gen = torch.Generator().manual_seed(bits)
    with torch.no_grad():  # unsorted levels, one out of range, as after training
        quant.levels.add_(torch.randn(quant.levels.shape, generator=gen) * 0.4)
        quant.levels[-1] = quant.num_values + 3.0
    u = torch.rand(2, 3, 4, 7, 9, generator=gen) * (quant.num_values - 1)
    u.view(-1)[:quant.levels.numel()] = quant.levels.detach()  # values exactly at a level
    got = quant.hard_levels(u)
    assert got.dtype == u.dtype and got.shape == u.shape
    assert torch.equal(got, broadcast_hard(u, quant.levels.detach()))


def test_quantizer_output_unchanged_in_eval_and_ste_training():
    quant = LearnableQuantizer(bits=4, relaxation='ste')
    x = torch.rand(2, 3, 4, 6, 5, generator=torch.Generator().manual_seed(0)) * 2 - 1
    m, big_m = quant.value_range(x)
    u = 15 * (x - m) / (big_m - m + quant.eps)
    hard = m + broadcast_hard(u, quant.levels.detach()) * (big_m - m) / 15
    quant.eval()
    assert torch.equal(quant(x), hard)
    quant.train()
    x.requires_grad_(True)
    y = quant(x)
    assert torch.allclose(y, hard, atol=1e-6)  # forward: the hard levels
    y.sum().backward()
    assert x.grad.abs().sum() > 0  # backward: the relaxation's gradient


PROBE = '''
import resource, sys, torch
from spact_mm.models.anonymizers import BDQEncoder
torch.set_num_threads(1)
bdq = BDQEncoder(normalize='fixed').eval()
x = torch.rand(1, 3, 8, 256, 256)
with torch.no_grad():
    bdq(x[:, :, :2, :32, :32])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bdq(x)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
'''


def test_eval_memory_is_a_few_clips_not_one_per_level():
    clip_mb = 3 * 8 * 256 * 256 * 4 / 2**20  # 6 MB of float32
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    rise_mb = float(out.stdout.split()[-1])
    # blur, difference, u and q hold ~9 clips (54 MB measured); the broadcast comparison
    # added 15 clips as bool and 15 as float (130 MB measured with it)
    assert rise_mb < 14 * clip_mb, rise_mb
    assert BDQEncoder  # imported by the probe too
