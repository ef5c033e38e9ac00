"""The benchmark's two loops do the same maths (no timing is checked here)."""
import pytest

from spact_mm.engine.benchmark import benchmark_inference, benchmark_minimax


@pytest.mark.parametrize('frozen_eval', [False, True])
def test_reference_loop_and_ours_agree(frozen_eval):
    res = benchmark_minimax('demo', iters=2, warmup=2, batch_size=4, clip_len=4, size=16,
                            lr=1e-2, frozen_branches_eval=frozen_eval)
    # Four iterations of Adam at lr 1e-2 on both loops: same losses (float32).
    assert res['max_loss_diff'] < 1e-5
    assert res['iters'] == 2 and res['ours_s'] > 0 and res['reference_s'] > 0
    assert res['speedup'] == pytest.approx(res['reference_s'] / res['ours_s'])


def test_inference_benchmark_runs_both_models():
    res = benchmark_inference('demo', iters=1, warmup=0, batch_size=2)
    assert res['stock_clips_per_s'] > 0 and res['anonymized_clips_per_s'] > 0


@pytest.mark.parametrize('weight_grad,input_grad', [(False, False), (False, True), (True, False),
                                                    (True, True)])
def test_branch_pass_builds_exactly_the_asked_gradients(weight_grad, input_grad):
    import torch

    from spact_mm.engine.benchmark import _pass

    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 2, 3))
    seen = []
    conv[0].weight.register_hook(lambda g: seen.append('w0'))
    conv[1].weight.register_hook(lambda g: seen.append('w1'))

    def hook_input(module, args):
        if args[0].requires_grad:
            args[0].register_hook(lambda g: seen.append('in'))

    conv.register_forward_pre_hook(hook_input)
    _pass(conv, torch.rand(2, 3, 8, 8), weight_grad, input_grad)()
    assert sorted(seen) == sorted((['w0', 'w1'] if weight_grad else [])
                                  + (['in'] if input_grad else []))
    assert all(p.grad is None for p in conv.parameters())  # no gradient left behind


def test_branch_costs_prediction_follows_the_passes():
    from spact_mm.engine.benchmark import branch_costs

    b = branch_costs('demo', batch_size=1, repeats=1)
    ref = b['f_A_w_ms'] + b['f_T_both_ms'] + b['f_B_both_ms']
    ours = (b['f_A_w_ms'] + b['f_T_in_ms'] + b['f_B_in_ms']
            + b['f_A_fwd_ms'] + b['f_T_w_ms'] + b['f_B_w_ms'])
    assert b['predicted_speedup'] == pytest.approx(2 * ref / ours)
    assert all(b[f'{n}_{m}_ms'] > 0 for n in ('f_A', 'f_T', 'f_B')
               for m in ('fwd', 'in', 'w', 'both'))
