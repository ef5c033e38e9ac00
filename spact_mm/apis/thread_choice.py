"""One thread or all of them, per input shape, measured on f_A's first calls.

A small pass of a narrow f_A (one 112x112 frame through the camera f_A) is dozens
of tiny ops, and PyTorch runs each conv (oneDNN) and each compiled kernel
(inductor's ``#pragma omp parallel``) on every intra-op thread. When idle
threads sleep (``OMP_WAIT_POLICY=PASSIVE``, the CLIs' default,
:func:`~spact_mm.apis.backends.passive_threads`), every parallel region pays for
waking the other thread, and on a virtual machine that wake-up can cost more
than the op. On the 2-core VM of docs/benchmark.md ("one thread for small
passes"), the compiled camera f_A ran 98 frames/s on 2 passive threads and 231 on
one at 112x112, while at 320x320 two threads were faster (61 against 50).
ONNX Runtime makes this choice per op, from a cost model: an op too small to
split runs on the calling thread alone. PyTorch offers no such switch, and the
break-even point depends on the host (the wake-up cost) as much as on f_A, so
:class:`ThreadChoice` measures it, as ``torch.backends.cudnn.benchmark`` picks
a conv algorithm: the first calls of each input shape run as a block on the
process's ``torch.get_num_threads()``, then as a block on one thread, and the
faster median stays. The trial calls are real calls (their output is used), so
nothing is computed twice, and every :data:`RETRIAL_EVERY` calls the shape is measured
again, because the host's wake-up cost drifts with its load. Written here
because neither PyTorch nor mmengine offers it.

The switch is ``torch.set_num_threads``, which is process-wide: another Python
thread running PyTorch ops at the same moment runs them on the chosen count
too (only its speed changes, not its results). The outputs of 1 and N threads
are the same in eager mode: oneDNN splits a conv over its output elements, not
over a sum (``tests/test_deploy/test_thread_choice.py`` checks this on the demo
f_A). A ``torch.compile``-d f_A is compiled once per count (Dynamo guards the
thread count), and its two graphs agree to float rounding.
"""
import time
from statistics import median
from typing import Callable, Dict, Hashable, List, Optional, TypeVar

import torch

T = TypeVar('T')

#: Timed calls per thread count before the choice (after one untimed call each,
#: which holds a compile or oneDNN's primitive creation).
TRIAL_CALLS = 5
#: Calls of a shape on its chosen count before it is measured again (the host's
#: wake-up cost drifts with its load: docs/benchmark.md). The new trial needs no
#: warm-up, and its calls on the slower count cost well under 1% of the calls.
RETRIAL_EVERY = 2000


class ThreadChoice:
    """The faster of 1 and ``torch.get_num_threads()`` threads, per key (input shape).

    Args:
        trials: Timed calls per thread count before choosing (at least 1).
        retrial_every: Calls on the chosen count after which a shape is measured
            again (0: never).
        clock: The timer (seconds); a test may pass a fake one.
    """

    def __init__(self, trials: int = TRIAL_CALLS, retrial_every: int = RETRIAL_EVERY,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if trials < 1:
            raise ValueError(f'trials must be >= 1, got {trials}')
        if retrial_every < 0:
            raise ValueError(f'retrial_every must be >= 0 (0: never), got {retrial_every}')
        self.trials = trials
        self.retrial_every = retrial_every
        self.clock = clock
        #: (key, torch.get_num_threads()) -> the chosen thread count, once measured.
        self.chosen: Dict[Hashable, int] = {}
        self._times: Dict[Hashable, Dict[int, List[float]]] = {}
        self._calls: Dict[Hashable, int] = {}  # trial calls so far
        self._warm: Dict[Hashable, int] = {}  # untimed calls per count (0: a retrial)
        self._since: Dict[Hashable, int] = {}  # calls since the choice

    def threads_for(self, key: Hashable) -> Optional[int]:
        """The thread count chosen for ``key`` at the current ``torch.get_num_threads()``,
        or ``None`` while it is still measured."""
        return self.chosen.get((key, torch.get_num_threads()))

    def __call__(self, key: Hashable, fn: Callable[[], T]) -> T:
        """Run ``fn()`` on the thread count chosen (or on trial) for ``key``."""
        full = torch.get_num_threads()
        if full <= 1:
            return fn()
        key = (key, full)
        chosen = self.chosen.get(key)
        if chosen is not None:
            since = self._since[key] = self._since.get(key, 0) + 1
            if self.retrial_every and since >= self.retrial_every:  # measure again, warm
                del self.chosen[key], self._since[key]
                self._warm[key] = 0
            return self._on(chosen, full, fn)
        # The trial runs in blocks: all calls on ``full`` threads, then all on one. Taking
        # turns call by call measured two threads cold: each such call started with the
        # other thread asleep since the one-thread call before, which on a VM wakes slower
        # than in a steady stream of calls (docs/benchmark.md, session 17).
        warm = self._warm.get(key, 1)
        block = warm + self.trials
        i = self._calls.get(key, 0)
        self._calls[key] = i + 1
        threads = full if i < block else 1
        start = self.clock()
        out = self._on(threads, full, fn)
        if i % block >= warm:  # the first call of each count is a warm-up (compile, primitives)
            times = self._times.setdefault(key, {full: [], 1: []})
            times[threads].append(self.clock() - start)
            if i == 2 * block - 1:
                self.chosen[key] = min(times, key=lambda n: (median(times[n]), -n))
                del self._times[key], self._calls[key]
                self._warm.pop(key, None)
        return out

    @staticmethod
    def _on(threads: int, full: int, fn: Callable[[], T]) -> T:
        """``fn()`` on ``threads`` threads, then back to ``full`` (the process's count)."""
        if threads == full:
            return fn()
        torch.set_num_threads(threads)
        try:
            return fn()
        finally:
            torch.set_num_threads(full)

