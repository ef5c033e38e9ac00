"""SSLLossThresholdHook (th_Bmax) reads the logged L_B and stops the loop."""
import itertools
from types import SimpleNamespace

from mmengine.logging import MessageHub

from spact_mm.engine import SSLLossThresholdHook

_ids = itertools.count()


def fake_runner():
    hub = MessageHub.get_instance(f'test_ssl_hook_{next(_ids)}')
    return SimpleNamespace(message_hub=hub, iter=0,
                           train_loop=SimpleNamespace(stop_training=False),
                           logger=SimpleNamespace(info=lambda *a, **k: None))


def run(hook, runner, values):
    for v in values:
        runner.message_hub.update_scalar('train/loss_ssl', v)
        hook.after_train_iter(runner, runner.iter)
        if runner.train_loop.stop_training:
            return
        runner.iter += 1


def test_stops_when_window_mean_reaches_threshold():
    hook = SSLLossThresholdHook(threshold=3.1, window=4)
    runner = fake_runner()
    run(hook, runner, [1.0, 2.0, 3.5, 3.5])  # mean 2.5: keep going
    assert runner.train_loop.stop_training is False
    run(hook, runner, [3.0])  # window [2.0, 3.5, 3.5, 3.0]: mean 3.0 < 3.1
    assert runner.train_loop.stop_training is False
    run(hook, runner, [3.2, 9.9])  # window [3.5, 3.5, 3.0, 3.2]: mean 3.3, stop at once
    assert runner.train_loop.stop_training is True
    assert hook.stopped_at == 6  # stopped after the 6th iteration; 9.9 never logged


def test_waits_for_full_window_and_min_iters():
    hook = SSLLossThresholdHook(threshold=0.1, window=50)
    runner = fake_runner()
    run(hook, runner, [5.0] * 49)
    assert runner.train_loop.stop_training is False
    hook = SSLLossThresholdHook(threshold=0.1, window=1, min_iters=100)
    runner = fake_runner()
    run(hook, runner, [5.0] * 99)
    assert runner.train_loop.stop_training is False
    run(hook, runner, [5.0])
    assert runner.train_loop.stop_training is True
