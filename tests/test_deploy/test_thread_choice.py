"""ThreadChoice: one thread or all, per input shape, from the first calls' timings; the
torch backend's output does not depend on the choice (eager: bitwise; compiled: to 1e-5,
one graph per count)."""
import shutil

import pytest
import torch

from spact_mm.apis.backends import TorchAnonymizer
from spact_mm.apis.thread_choice import ThreadChoice
from spact_mm.models.anonymizers import UNetAnonymizer


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class _FakeWork:
    """A call whose duration on a fake clock depends on the thread count it runs on."""

    def __init__(self, seconds_by_threads):
        self.seconds = seconds_by_threads
        self.now = 0.0
        self.seen = []

    def clock(self) -> float:
        return self.now

    def __call__(self) -> int:
        threads = torch.get_num_threads()
        self.seen.append(threads)
        self.now += self.seconds[threads]
        return threads


@pytest.mark.parametrize('seconds, expected', [({1: 1e-3, 2: 3e-3}, 1),
                                               ({1: 3e-3, 2: 1e-3}, 2),
                                               ({1: 2e-3, 2: 2e-3}, 2)])  # a tie keeps all
def test_the_faster_count_is_chosen_after_the_trials_and_kept(two_threads, seconds, expected):
    work = _FakeWork(seconds)
    choice = ThreadChoice(trials=3, clock=work.clock)
    for _ in range(2 + 2 * 3):  # one warm-up each, then 3 timed calls each
        assert choice.threads_for('a') is None
        choice('a', work)
        assert torch.get_num_threads() == 2  # restored after every call
    assert work.seen == [2] * 4 + [1] * 4  # a block on each count
    assert choice.threads_for('a') == expected
    assert [choice('a', work) for _ in range(3)] == [expected] * 3
    assert torch.get_num_threads() == 2
    choice('b', work)  # another shape is measured anew
    assert choice.threads_for('b') is None and work.seen[-1] == 2


def test_the_choice_is_measured_again_without_warm_up_when_the_host_changes(two_threads):
    work = _FakeWork({1: 1e-3, 2: 3e-3})
    choice = ThreadChoice(trials=2, retrial_every=10, clock=work.clock)
    for _ in range(2 + 2 * 2):
        choice('a', work)
    assert choice.threads_for('a') == 1
    work.seconds = {1: 3e-3, 2: 1e-3}  # waking threads got cheap
    for _ in range(9):
        choice('a', work)
    assert choice.threads_for('a') == 1  # kept for retrial_every calls
    choice('a', work)  # the 10th call on the choice ends it
    assert choice.threads_for('a') is None
    work.seen.clear()
    for _ in range(2 * 2):  # a new trial, with no warm-up calls
        choice('a', work)
    assert work.seen == [2, 2, 1, 1] and choice.threads_for('a') == 2


def test_warm_up_calls_are_not_timed(two_threads):
    """A slow first call at each count (a compile) must not decide the choice."""
    work = _FakeWork({1: 1e-3, 2: 2e-3})
    first = set()

    def fn():
        threads = torch.get_num_threads()
        if threads == 1 and threads not in first:
            work.now += 5.0  # the one-thread warm-up is slow, as a compile is
        first.add(threads)
        return work()

    choice = ThreadChoice(trials=2, clock=work.clock)
    for _ in range(2 + 2 * 2):
        choice('a', fn)
    assert choice.threads_for('a') == 1


def test_two_threads_are_timed_warm_as_in_a_stream_of_calls(two_threads):
    """On a VM the other thread wakes slowly after a pause: a two-thread call right after a
    one-thread call costs more than one in a stream of two-thread calls. The trial must
    measure the stream (a block per count), where two threads are faster here."""
    work = _FakeWork({1: 2e-3, 2: 1e-3})
    cold = 3e-3  # the wake-up after a one-thread call

    def fn():
        if torch.get_num_threads() == 2 and work.seen and work.seen[-1] == 1:
            work.now += cold
        return work()

    choice = ThreadChoice(trials=3, clock=work.clock)
    for _ in range(2 + 2 * 3):
        choice('a', fn)
    # taken in turns, every timed two-thread call would have been cold (4 ms > 2 ms)
    assert choice.threads_for('a') == 2


def test_a_single_thread_process_is_left_alone():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        work = _FakeWork({1: 1e-3})
        choice = ThreadChoice(trials=1, clock=work.clock)
        for _ in range(4):
            choice('a', work)
        assert work.seen == [1] * 4 and choice.chosen == {}
    finally:
        torch.set_num_threads(before)


def test_trials_must_be_positive():
    with pytest.raises(ValueError, match='trials'):
        ThreadChoice(trials=0)
    with pytest.raises(ValueError, match='retrial_every'):
        ThreadChoice(retrial_every=-1)


def test_torch_runner_output_is_the_same_on_one_and_two_threads(two_threads):
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=16, num_stages=3).eval()
    runner = TorchAnonymizer(unet, adaptive_threads=False)
    x = torch.rand(1, 3, 64, 80)
    on_two = runner.anonymize_unit(x)
    torch.set_num_threads(1)
    on_one = runner.anonymize_unit(x)
    torch.set_num_threads(2)
    assert torch.equal(on_one, on_two)
    adaptive = TorchAnonymizer(unet)
    outs = [adaptive.anonymize_unit(x) for _ in range(2 + 2 * adaptive.thread_choice.trials)]
    assert adaptive.thread_choice.threads_for((1, 3, 64, 80)) in (1, 2)
    assert all(torch.equal(out, on_two) for out in outs)
    assert TorchAnonymizer(unet, adaptive_threads=False).thread_choice is None


@pytest.mark.skipif(shutil.which('g++') is None and shutil.which('c++') is None,
                    reason='torch.compile on CPU needs a C++ compiler')
def test_compiled_runner_compiles_once_per_count_and_agrees_on_both(two_threads):
    """Dynamo guards the thread count: the trial compiles the shape on each count once,
    and the chosen graph runs without a further compile."""
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=2).eval()
    runner = TorchAnonymizer(unet, compile=True)
    x = torch.rand(1, 3, 16, 24)
    counters.clear()
    outs = [runner.anonymize_unit(x) for _ in range(2 + 2 * runner.thread_choice.trials)]
    assert runner.thread_choice.threads_for((1, 3, 16, 24)) in (1, 2)
    assert counters['stats']['unique_graphs'] == 2  # one graph per thread count
    outs += [runner.anonymize_unit(x) for _ in range(3)]
    assert counters['stats']['unique_graphs'] == 2
    with torch.inference_mode():
        ref = unet(x)
    assert all(torch.allclose(out, ref, atol=1e-5) for out in outs)
