"""tools/analysis_tools/minimax_benchmark.py: the benchmark's two loops do the same maths
(no timing is checked here)."""
import pytest
from conftest import load_tool

bm = load_tool('analysis_tools/minimax_benchmark.py')
benchmark_inference, benchmark_minimax = bm.benchmark_inference, bm.benchmark_minimax


@pytest.mark.parametrize('frozen_eval', [False, True])
def test_reference_loop_and_ours_agree(frozen_eval):
    res = benchmark_minimax('demo', iters=2, warmup=2, batch_size=4, clip_len=4, size=16,
                            lr=1e-2, frozen_branches_eval=frozen_eval)
    # Four iterations of Adam at lr 1e-2 on both loops: same losses (float32).
    assert res['max_loss_diff'] < 1e-5
    assert res['iters'] == 2 and res['ours_s'] > 0 and res['reference_s'] > 0


def test_inference_benchmark_runs_both_models():
    res = benchmark_inference('demo', iters=1, warmup=0, batch_size=2)
    assert res['stock_clips_per_s'] > 0 and res['anonymized_clips_per_s'] > 0


@pytest.mark.parametrize('weight_grad,input_grad', [(False, False), (False, True), (True, False),
                                                    (True, True)])
def test_branch_pass_builds_exactly_the_asked_gradients(weight_grad, input_grad):
    import torch

    _pass = bm._pass
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


def test_branch_costs_times_each_network_in_each_mode(monkeypatch):
    """Each ``<net>_<mode>_ms`` figure is the pass of that network with that mode's
    gradients (fwd: none, in: input only, w: weights only, both), on the tensors the
    network sees in one iteration; the model's requires_grad flags are restored."""
    import torch

    calls = {}

    def fake_pass(net, x, weight_grad, input_grad):
        key = len(calls)
        calls[key] = (net, tuple(x.shape), weight_grad, input_grad)
        return key

    monkeypatch.setattr(bm, '_pass', fake_pass)
    monkeypatch.setattr(bm, '_median_ms', lambda key, repeats, dev: float(key + 1))
    from spact_mm.registry import MODELS

    built = []  # every module MODELS builds, the whole model last

    original_build = MODELS.build
    monkeypatch.setattr(MODELS, 'build', lambda cfg: built.append(original_build(cfg)) or built[-1])
    res = bm.branch_costs('demo', batch_size=2, repeats=1)
    model = built[-1]
    nets = dict(f_A=model.data_preprocessor.anonymizer, f_T=model.backbone,
                f_B=(model.privacy_head.backbone, model.privacy_head.neck))
    _, t, size, _ = bm.SCALES['demo']
    shapes = dict(f_A=(2 * t, 3, size, size), f_T=(2, 3, t, size, size), f_B=(4, 3, size, size))
    modes = dict(fwd=(False, False), w=(True, False), both=(True, True), **{'in': (False, True)})
    for name, net in nets.items():
        for mode, flags in modes.items():
            called_net, shape, wg, ig = calls[int(res[f'{name}_{mode}_ms']) - 1]
            if name == 'f_B':  # backbone + projection
                assert all(a is b for a, b in zip(called_net, net)) and len(called_net) == 2
            else:
                assert called_net is net
            assert (shape, (wg, ig)) == (shapes[name], flags), (name, mode)
    assert all(p.requires_grad for p in model.parameters())
    assert isinstance(res['predicted_speedup'], float) and torch.isfinite(
        torch.tensor(res['predicted_speedup']))
