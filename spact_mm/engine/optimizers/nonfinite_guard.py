"""The non-finite policy of every training stage, in one place.

A NaN or inf loss (or a forward pass that left a NaN or inf in a BatchNorm
running statistic, e.g. from an inf in the input batch) must not reach the
weights, the buffers or a checkpoint:

- :class:`NonFiniteGuard` decides per iteration. It snapshots the model's
  buffers when the forward pass starts; if the loss or any floating-point
  buffer is non-finite afterwards, the step is skipped (no backward, gradients
  zeroed, no optimiser step) and the buffers are put back, counted and logged;
  ``max_in_row`` such iterations in a row stop the run with
  :class:`NonFiniteLossError`. Ranks agree through an all-reduce. A finite
  loss can still have a NaN or inf gradient (e.g. ``0 * log 0`` in a
  backward pass); :meth:`NonFiniteGuard.check_gradients` then skips the
  optimiser step in the same way (counted in the same counters).
- :class:`GuardedOptimWrapper` and :class:`GuardedAmpOptimWrapper` apply it to
  a single-optimiser stage (stage 1, the protocols' fresh models);
  :class:`~spact_mm.engine.optimizers.MinimaxOptimWrapper` applies it to the
  minimax stages.
- :class:`NonFiniteGuardHook` (in ``configs/_base_/default_runtime.py``'s
  ``default_hooks``, so every config has it) refuses to write a checkpoint
  whose weights or buffers are non-finite, refuses to test such a model, and
  warns when a run's optim wrapper has no guard.

Written by hand: mmengine's ``OptimWrapper`` steps on any loss and keeps no
buffer snapshot; its ``CheckpointHook`` saves whatever the model holds.
"""
from contextlib import contextmanager
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from spact_mm.registry import HOOKS, OPTIM_WRAPPERS


class NonFiniteLossError(RuntimeError):
    """Raised after ``max_nonfinite_in_row`` non-finite losses in a row."""


class NonFiniteCheckpointError(RuntimeError):
    """A checkpoint (or a model under test) holds NaN or inf weights or buffers."""


def nonfinite_entries(state_dict: Mapping[str, torch.Tensor]) -> List[str]:
    """Names of the floating-point tensors of ``state_dict`` holding a NaN or inf."""
    return [k for k, v in state_dict.items()
            if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()]


def check_finite_state(state_dict: Mapping[str, torch.Tensor], what: str) -> None:
    """Raise :class:`NonFiniteCheckpointError` if any weight or buffer is NaN or inf.

    Args:
        state_dict: A model's ``state_dict()`` (or a checkpoint's).
        what: What holds it, for the message (a file name, an iteration).
    """
    bad = nonfinite_entries(state_dict)
    if bad:
        shown = ', '.join(bad[:5]) + (f', ... ({len(bad)} in all)' if len(bad) > 5 else '')
        raise NonFiniteCheckpointError(
            f'{what}: {len(bad)} of {len(state_dict)} weights/buffers hold NaN or inf '
            f'({shown}). Refusing to save or evaluate them; resume from an earlier checkpoint '
            f'and lower the learning rate, or find the non-finite input')


class NonFiniteGuard:
    """Skip the step of an iteration whose loss or BatchNorm statistics are not finite.

    Args:
        max_in_row: The step is skipped for each non-finite iteration; this many
            in a row raise :class:`NonFiniteLossError`. ``0`` disables the guard.
    """

    def __init__(self, max_in_row: int = 5) -> None:
        self.max_in_row = int(max_in_row)
        self.skipped = 0  # non-finite iterations skipped in total
        self.in_row = 0
        self._in_row_before = 0
        self._buffers: List[Tuple[torch.Tensor, torch.Tensor]] = []

    @property
    def enabled(self) -> bool:
        return self.max_in_row > 0

    def snapshot(self, model: nn.Module) -> None:
        """Copy every buffer of ``model`` before its forward pass changes them.

        The forward pass of a training-mode BatchNorm updates its running
        statistics before any loss exists; one non-finite batch would leave
        them NaN for good even though the step is skipped.
        """
        if self.enabled:
            self._buffers = [(b, b.detach().clone()) for b in model.buffers()]

    def restore(self) -> None:
        """Put the buffers back as :meth:`snapshot` found them."""
        with torch.no_grad():
            for buf, saved in self._buffers:
                buf.copy_(saved)

    def _nonfinite_buffers(self) -> torch.Tensor:
        flags = [torch.isfinite(b).all() for b, _ in self._buffers if b.is_floating_point()]
        if not flags:
            return torch.zeros(())
        return ~torch.stack(flags).all()

    def check(self, loss: torch.Tensor, where: str) -> bool:
        """Decide whether this iteration's step must be skipped.

        Args:
            loss: The loss about to be backpropagated.
            where: Where in training this is, for the messages.

        Returns:
            True if the loss or a buffer is non-finite: the caller skips the
            step; the buffers have been restored.

        Raises:
            NonFiniteLossError: At the ``max_in_row``-th such iteration in a row.
        """
        if not self.enabled:
            return False
        from mmengine.dist import all_reduce, get_world_size

        bad_loss = (~torch.isfinite(loss.detach())).any()
        bad_buf = self._nonfinite_buffers().to(bad_loss.device)
        bad = torch.stack([bad_loss, bad_buf]).float()
        if get_world_size() > 1:
            all_reduce(bad, op='max')
        bad_loss, bad_buf = bool(bad[0].item()), bool(bad[1].item())
        if not (bad_loss or bad_buf):
            self._in_row_before = self.in_row  # check_gradients may still count this step
            self.in_row = 0
            self._buffers = []
            return False
        self.restore()
        self._buffers = []
        what = (f'non-finite loss {loss.detach().float().sum().item()}' if bad_loss else
                'finite loss but non-finite BatchNorm statistics after the forward pass')
        self._record(f'{what} in {where}; step not applied, buffers restored')
        return True

    def check_gradients(self, params: Iterable[torch.Tensor], where: str) -> bool:
        """Decide, after the backward pass, whether the optimiser step must be skipped.

        Args:
            params: The parameters about to be stepped.
            where: Where in training this is, for the messages.

        Returns:
            True if a gradient holds NaN or inf: the caller zeroes the
            gradients and does not step. Counted with :meth:`check`'s events.

        Raises:
            NonFiniteLossError: At the ``max_in_row``-th such iteration in a row.
        """
        if not self.enabled:
            return False
        from mmengine.dist import all_reduce, get_world_size

        flags = [torch.isfinite(p.grad).all() for p in params if p.grad is not None]
        if not flags:
            return False
        bad = (~torch.stack(flags).all()).float()
        if get_world_size() > 1:
            all_reduce(bad, op='max')
        if not bool(bad.item()):
            return False
        self.in_row = max(self.in_row, self._in_row_before)  # the loss check reset it
        self._record(f'finite loss but non-finite gradients in {where}; step not applied')
        return True

    def _record(self, msg: str) -> None:
        """Count, log and, at ``max_in_row`` in a row, raise a skipped step."""
        from mmengine.logging import MessageHub, MMLogger

        self.skipped += 1
        self.in_row += 1
        MessageHub.get_current_instance().update_scalar('train/nonfinite_skipped',
                                                        float(self.skipped))
        msg = f'{msg} ({self.in_row} in a row, {self.skipped} in total)'
        if self.in_row >= self.max_in_row:
            raise NonFiniteLossError(
                f'{msg}. Stopping: {self.max_in_row} non-finite losses in a row '
                f'(max_nonfinite_in_row). Lower the learning rates or ssl_weight, check the '
                f'input data, or resume from the last checkpoint.')
        MMLogger.get_current_instance().warning(msg)

    def state_dict(self) -> Dict[str, int]:
        return dict(nonfinite_skipped=self.skipped, nonfinite_in_row=self.in_row)

    def load_state_dict(self, state: Mapping) -> None:
        # checkpoints written before the counters were saved lack them
        self.skipped = int(state.get('nonfinite_skipped', 0))
        self.in_row = int(state.get('nonfinite_in_row', 0))


class _GuardedMixin:
    """:class:`NonFiniteGuard` around mmengine's single-optimiser ``update_params``."""

    def _init_guard(self, max_nonfinite_in_row: int) -> None:
        self.nonfinite_guard = NonFiniteGuard(max_nonfinite_in_row)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """mmengine's context, after a snapshot of the model's buffers."""
        self.nonfinite_guard.snapshot(model)
        with super().optim_context(model):
            yield

    def update_params(self, loss: torch.Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """mmengine's ``update_params``, unless :class:`NonFiniteGuard` skips the step.

        A skipped iteration still counts for gradient accumulation; what the
        window gathered so far is dropped (gradients zeroed).
        """
        if self.nonfinite_guard.check(loss, f'{type(self).__name__} step'):
            self.zero_grad(**(zero_kwargs or {}))
            self._inner_count += 1
            return
        super().update_params(loss, step_kwargs, zero_kwargs)

    def step(self, **kwargs) -> None:
        """mmengine's ``step``, unless a gradient is non-finite (then zeroed, no step).

        Under AMP the ``GradScaler`` already skips steps with inf or NaN
        gradients (and lowers its scale), so only the plain wrapper checks.
        """
        if not isinstance(self, AmpOptimWrapper) and self.nonfinite_guard.check_gradients(
                (p for g in self.optimizer.param_groups for p in g['params']),
                f'{type(self).__name__} step'):
            return
        super().step(**kwargs)

    def state_dict(self) -> dict:
        """The optimiser's state and the guard's counters."""
        state = super().state_dict()
        state['nonfinite_guard'] = self.nonfinite_guard.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        guard = state_dict.pop('nonfinite_guard', None)
        super().load_state_dict(state_dict)
        if guard is not None:
            self.nonfinite_guard.load_state_dict(guard)


@OPTIM_WRAPPERS.register_module()
class GuardedOptimWrapper(_GuardedMixin, OptimWrapper):
    """mmengine's ``OptimWrapper`` with the non-finite policy of :class:`NonFiniteGuard`.

    Args:
        max_nonfinite_in_row: See :class:`NonFiniteGuard` (``0``: no guard).
        **kwargs: ``OptimWrapper``'s arguments.
    """

    def __init__(self, *args, max_nonfinite_in_row: int = 5, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_guard(max_nonfinite_in_row)


@OPTIM_WRAPPERS.register_module()
class GuardedAmpOptimWrapper(_GuardedMixin, AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` with the policy of :class:`NonFiniteGuard`
    (what ``tools/train.py --amp`` makes of a ``GuardedOptimWrapper``).

    Args:
        max_nonfinite_in_row: See :class:`NonFiniteGuard` (``0``: no guard).
        **kwargs: ``AmpOptimWrapper``'s arguments.
    """

    def __init__(self, *args, max_nonfinite_in_row: int = 5, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_guard(max_nonfinite_in_row)


def has_nonfinite_guard(optim_wrapper) -> bool:
    """Whether a built optim wrapper applies an enabled :class:`NonFiniteGuard`."""
    guard = getattr(optim_wrapper, 'nonfinite_guard', None)
    return isinstance(guard, NonFiniteGuard) and guard.enabled


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Never save, nor test, NaN or inf weights or buffers; warn about unguarded runs.

    - ``before_save_checkpoint``: every checkpoint the runner writes
      (``AtomicCheckpointHook``, ``FinalCheckpointHook``, mmengine's
      ``CheckpointHook``, ``save_best``) is checked first; a non-finite weight
      or buffer raises :class:`NonFiniteCheckpointError` and nothing is written.
    - ``before_test``: the loaded model is checked the same way (a checkpoint
      written without this hook), naming the checkpoint.
    - ``before_train``: a warning if the optim wrapper has no enabled guard
      (use ``GuardedOptimWrapper`` or ``MinimaxOptimWrapper``).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        if not has_nonfinite_guard(wrapper):
            runner.logger.warning(
                f'{type(wrapper).__name__} has no non-finite guard: a NaN or inf loss would '
                f'be applied to the weights. Use type="GuardedOptimWrapper" (or '
                f'MinimaxOptimWrapper with max_nonfinite_in_row > 0)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        check_finite_state(checkpoint.get('state_dict', {}),
                           f'checkpoint at iteration {runner.iter}, epoch {runner.epoch}')

    def before_test(self, runner) -> None:
        from mmengine.model import is_model_wrapper

        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        source = getattr(runner, '_load_from', None) or 'the model under test'
        check_finite_state(model.state_dict(), str(source))
