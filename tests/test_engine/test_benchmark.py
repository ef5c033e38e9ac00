"""The benchmark's two loops do the same maths (no timing is checked here)."""
import pytest

from spact_mm.engine.benchmark import benchmark_inference, benchmark_minimax


def test_reference_loop_and_ours_agree():
    res = benchmark_minimax('demo', iters=2, warmup=2, batch_size=4, clip_len=4, size=16,
                            lr=1e-2)
    # Four iterations of Adam at lr 1e-2 on both loops: same losses (float32).
    assert res['max_loss_diff'] < 1e-5
    assert res['iters'] == 2 and res['ours_s'] > 0 and res['reference_s'] > 0
    assert res['speedup'] == pytest.approx(res['reference_s'] / res['ours_s'])


def test_inference_benchmark_runs_both_models():
    res = benchmark_inference('demo', iters=1, warmup=0, batch_size=2)
    assert res['stock_clips_per_s'] > 0 and res['anonymized_clips_per_s'] > 0
