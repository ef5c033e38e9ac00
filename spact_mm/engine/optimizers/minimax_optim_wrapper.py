"""The minimax alternation of SPAct (Sec. 3.3, Eq. 7-9) as an optim wrapper."""
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict

from spact_mm.registry import OPTIM_WRAPPERS

from .nonfinite_guard import NonFiniteGuard, NonFiniteLossError  # noqa: F401  (re-exported)

BRANCHES = ('anonymizer', 'recognizer', 'privacy')
#: Branches updated in each phase: step 1 (Eq. 9) and step 2 (Eq. 7, 8).
PHASE_BRANCHES = {'anonymizer': ('anonymizer', ), 'adversary': ('recognizer', 'privacy')}


@contextmanager
def eval_modules(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Put ``modules`` (and their children) in eval mode, restore every flag after.

    The authors' released minimax loop calls ``eval()`` on the networks a step
    does not update (step 1: f_T and f_B; step 2: f_A), so their batch norms use
    and keep their running statistics and their dropout is off. The flags are
    restored one by one (not through ``train()``), so per-module choices such as
    mmaction2's ``norm_eval`` survive.
    """
    saved = [(m, m.training) for top in modules for m in top.modules()]
    for top in modules:
        top.eval()
    try:
        yield
    finally:
        for m, flag in saved:
            m.training = flag


def modules_outside(branch_modules: Dict[str, List[nn.Module]],
                    active: Iterable[str]) -> List[nn.Module]:
    """The modules of every branch not in ``active`` (the frozen ones of a step)."""
    active = set(active)
    return [m for b, mods in branch_modules.items() if b not in active for m in mods]


def to_channels_last(model: nn.Module) -> None:
    """Convert every 2D / 3D convolution weight to the channels-last memory format."""
    for m in model.modules():
        w = getattr(m, 'weight', None)
        if isinstance(m, nn.modules.conv._ConvNd) and w is not None and w.dim() in (4, 5):
            fmt = torch.channels_last if w.dim() == 4 else torch.channels_last_3d
            w.data = w.data.contiguous(memory_format=fmt)


def reinitialise(modules: Iterable[nn.Module]) -> None:
    """``reset_parameters`` of every submodule that has one (PyTorch's default init)."""
    for top in modules:
        for m in top.modules():
            if hasattr(m, 'reset_parameters'):
                m.reset_parameters()


@OPTIM_WRAPPERS.register_module()
class MinimaxOptimWrapper(OptimWrapperDict):
    """One optimiser per branch, alternating SPAct's two minimax steps.

    The model stays a plain mmaction2 recognizer: mmengine's ``train_step``
    runs the forward pass inside :meth:`optim_context` and hands the summed
    loss ``L_T + L_B`` to :meth:`update_params`. This wrapper decides, per
    iteration, which phase runs:

    - step 1 (``'anonymizer'``, Eq. 9): only f_A's parameters require grad.
      f_T and f_B are frozen (no weight gradients are built) but gradients flow
      through them to f_A; the privacy branch reads its input through a
      gradient reversal layer whose weight is ``ssl_weight``, so f_A's
      gradient of the summed loss is ``grad(L_T) - w * grad(L_B)``.
    - step 2 (``'adversary'``, Eq. 7 and 8): only f_T and f_B require grad;
      f_A, with no parameter requiring grad, records no autograd graph. f_T's
      gradient of the sum is ``grad(L_T)`` and f_B's is ``grad(L_B)``.

    Each cycle runs ``anonymizer_steps`` step-1 iterations, then
    ``adversary_steps`` step-2 iterations. Before each forward pass the
    wrapper calls the model's ``set_minimax_phase(phase, ssl_weight)``
    (:meth:`SPActRecognizer.set_minimax_phase`), the one place where the model
    learns the phase and omega. A branch without an optimiser is
    never updated (e.g. stage 2 has no ``anonymizer`` branch; the "frozen f_B"
    ablation has no ``privacy`` branch). Build it with
    :class:`MinimaxOptimWrapperConstructor`.

    Mixed precision: give every branch as an mmengine ``AmpOptimWrapper``
    (``tools/train.py --amp`` does this). The forward pass of all three nets
    runs under one autocast, and the branches share one ``GradScaler`` (the
    first branch's, in the order ``anonymizer``, ``recognizer``, ``privacy``):
    one scaled backward feeds every active optimiser, each is stepped through
    the shared scaler, and the scale is updated once per step, PyTorch's
    recipe for several optimisers on one loss.

    Gradient accumulation: with ``accumulative_counts=k`` (equal in every
    branch), each minimax step spans ``k`` consecutive iterations of the same
    phase: the loss of each is divided by ``k``, gradients accumulate (with
    DDP's ``no_sync`` until the last one) and the active branches step once.
    The alternation therefore counts optimiser steps, and a step sees ``k``
    batches. If ``max_iters`` is not a multiple of ``k``, the last, shorter
    window is scaled by its own length, as mmengine's ``OptimWrapper`` does.

    Args:
        ssl_weight: omega of Eq. 9, in [0, 1]. 0 removes the adversarial term:
            step 1 trains f_A on L_T (and f_A's own losses) alone, a utility-only
            stage such as STPrivacy's sparsifier warm-up (docs/stprivacy.md).
        anonymizer_steps: Step-1 steps per cycle.
        adversary_steps: Step-2 steps per cycle.
        channels_last: Convert the model's convolution weights to the
            channels-last memory format (``channels_last`` for 2D,
            ``channels_last_3d`` for 3D convolutions) before the first
            iteration; faster convolutions on recent GPUs, same results.
        max_nonfinite_in_row: A NaN or inf loss (L_T + L_B) skips the step
            (see :meth:`_guard_nonfinite`); this many in a row stop the run
            with ``NonFiniteLossError``. ``0`` disables the guard.
        frozen_branches_eval: Run the branches that the current step does not
            update in eval mode (batch norm on running statistics, which stay
            unchanged; no dropout), as the authors' released loop does (step 1:
            f_T and f_B; step 2: f_A). ``False`` (default): every branch in
            train mode in both steps, as Eq. 7-9 read. See :func:`eval_modules`.
        privacy_restart_interval: Restart f_B every this many iterations
            (``0``: never), as the "model restarting" of Wu et al. [41]: at
            iteration ``j * interval`` (j >= 1) every parameter and buffer of
            the privacy branch is re-initialised (``reset_parameters`` of each
            submodule) and its optimiser's state (Adam moments) is cleared.
            f_A then faces a fresh adversary that has not co-adapted to it,
            instead of the one f_B it learned to fool (issue 12). See
            :meth:`restart_privacy_branch`.
        privacy_restart_warmup: Iterations after each restart that run step 2
            only (f_T and the fresh f_B learn, f_A waits), so that f_A's next
            update is against a trained adversary, not a random one.
        **optim_wrappers: ``OptimWrapper`` or ``AmpOptimWrapper`` per branch
            (keys ``anonymizer``, ``recognizer``, ``privacy``).
    """

    def __init__(self,
                 ssl_weight: float = 1.0,
                 anonymizer_steps: int = 1,
                 adversary_steps: int = 1,
                 channels_last: bool = False,
                 max_nonfinite_in_row: int = 5,
                 frozen_branches_eval: bool = False,
                 privacy_restart_interval: int = 0,
                 privacy_restart_warmup: int = 0,
                 **optim_wrappers: OptimWrapper) -> None:
        unknown = set(optim_wrappers) - set(BRANCHES)
        if unknown:
            raise KeyError(f'unknown branches {sorted(unknown)}; expected {BRANCHES}')
        super().__init__(**optim_wrappers)
        if not 0 <= ssl_weight <= 1:
            raise ValueError(f'ssl_weight (omega of Eq. 9) must be in [0, 1], got {ssl_weight}')
        if anonymizer_steps < 0 or adversary_steps < 0 or anonymizer_steps + adversary_steps == 0:
            raise ValueError('anonymizer_steps and adversary_steps must be >= 0, not both 0')
        if anonymizer_steps and 'anonymizer' not in optim_wrappers:
            raise ValueError('anonymizer_steps > 0 needs an `anonymizer` optimiser')
        if adversary_steps and not {'recognizer', 'privacy'} & set(optim_wrappers):
            raise ValueError('adversary_steps > 0 needs a `recognizer` or `privacy` optimiser')
        wrappers = [optim_wrappers[b] for b in BRANCHES if b in optim_wrappers]
        amp = [isinstance(w, AmpOptimWrapper) for w in wrappers]
        if any(amp) and not all(amp):
            raise ValueError('either every minimax branch is an AmpOptimWrapper or none is: '
                             'one forward pass serves all branches')
        self.use_amp = all(amp)
        self.loss_scaler = None
        self.cast_dtype = None
        if self.use_amp:
            dtypes = {w.cast_dtype for w in wrappers}
            if len(dtypes) > 1:
                raise ValueError(f'AmpOptimWrapper branches must share one dtype, got {dtypes}')
            self.cast_dtype = dtypes.pop()
            self.loss_scaler = wrappers[0].loss_scaler
            self._scale_update_param = wrappers[0]._scale_update_param
            for w in wrappers:  # one scaler: one scaled backward serves every branch
                w.loss_scaler = self.loss_scaler
        counts = {w._accumulative_counts for w in optim_wrappers.values()}
        if len(counts) > 1:
            raise ValueError('all branches must use the same accumulative_counts')
        self.accumulative_counts = counts.pop()
        self.max_iters = -1  # set by initialize_count_status; -1: unknown
        self.channels_last = channels_last
        self._channels_last_done = False
        self.ssl_weight = float(ssl_weight)
        self.anonymizer_steps = anonymizer_steps
        self.adversary_steps = adversary_steps
        self.minimax_iter = 0  # iterations done; the phase is derived from it
        self._branch_params: Dict[str, List[nn.Parameter]] = {}
        self._branch_modules: Dict[str, List[nn.Module]] = {}
        self._frozen_here: Set[int] = set()  # ids of the parameters this wrapper froze
        self._reversal_checked = False
        self.frozen_branches_eval = bool(frozen_branches_eval)
        self.nonfinite_guard = NonFiniteGuard(max_nonfinite_in_row)
        if privacy_restart_interval < 0 or privacy_restart_warmup < 0:
            raise ValueError('privacy_restart_interval and privacy_restart_warmup must be >= 0')
        if privacy_restart_interval and 'privacy' not in optim_wrappers:
            raise ValueError('privacy_restart_interval > 0 needs a `privacy` optimiser')
        if privacy_restart_interval and privacy_restart_warmup >= privacy_restart_interval:
            raise ValueError('privacy_restart_warmup must be smaller than '
                             'privacy_restart_interval (or f_A is never updated)')
        self.privacy_restart_interval = int(privacy_restart_interval)
        self.privacy_restart_warmup = int(privacy_restart_warmup)
        self.privacy_restarts = 0  # restarts done, for the log
        self._restarted_at = -1

    # ---------------------------------------------- non-finite guard counters
    @property
    def max_nonfinite_in_row(self) -> int:
        return self.nonfinite_guard.max_in_row

    @max_nonfinite_in_row.setter
    def max_nonfinite_in_row(self, value: int) -> None:
        self.nonfinite_guard.max_in_row = int(value)

    @property
    def nonfinite_skipped(self) -> int:
        """Non-finite iterations skipped in total."""
        return self.nonfinite_guard.skipped

    @nonfinite_skipped.setter
    def nonfinite_skipped(self, value: int) -> None:
        self.nonfinite_guard.skipped = int(value)

    @property
    def nonfinite_in_row(self) -> int:
        """Non-finite iterations in a row, up to the current one."""
        return self.nonfinite_guard.in_row

    @nonfinite_in_row.setter
    def nonfinite_in_row(self, value: int) -> None:
        self.nonfinite_guard.in_row = int(value)

    # ------------------------------------------------------------------ phase
    @property
    def phase(self) -> str:
        """``'anonymizer'`` (step 1) or ``'adversary'`` (step 2) for this iteration."""
        k = self.privacy_restart_interval
        if k and self.minimax_iter >= k and self.minimax_iter % k < self.privacy_restart_warmup:
            return 'adversary'  # the fresh f_B's warm-up after a restart
        step = self.minimax_iter // self.accumulative_counts
        pos = step % (self.anonymizer_steps + self.adversary_steps)
        return 'anonymizer' if pos < self.anonymizer_steps else 'adversary'

    @property
    def active_branches(self) -> List[str]:
        """Branches with an optimiser that the current phase updates."""
        return [b for b in PHASE_BRANCHES[self.phase] if b in self.optim_wrappers]

    def set_branch_modules(self, branch_modules: Dict[str, List[nn.Module]]) -> None:
        """Tell the wrapper every branch's modules (set by the constructor).

        Their parameters are frozen and unfrozen per step (see
        :meth:`_enter_phase`); branches listed here without an optimiser are
        kept frozen. With ``frozen_branches_eval`` the
        modules of the branches a step does not update run that step in eval
        mode.
        """
        self._branch_modules = {k: list(v) for k, v in branch_modules.items()}
        self._branch_params = {k: list(nn.ModuleList(v).parameters())
                               for k, v in self._branch_modules.items()}

    def restart_privacy_branch(self) -> None:
        """Re-initialise f_B and clear its optimiser's state (Wu et al. [41], restarting).

        Every submodule of the privacy branch with a ``reset_parameters``
        method (convolutions, linear layers, batch norms, whose running
        statistics are reset too) draws fresh weights from PyTorch's default
        initialisation, from the global random generator (seeded by
        mmengine's ``randomness``); the ``privacy`` optimiser forgets its
        moments. Buffers of other kinds (e.g. a MoCo queue) are not reset.
        """
        if not self._branch_modules.get('privacy'):
            raise RuntimeError('privacy_restart_interval needs the branch modules: build the '
                               'wrapper with MinimaxOptimWrapperConstructor')
        reinitialise(self._branch_modules['privacy'])
        self.optim_wrappers['privacy'].optimizer.state.clear()
        self.privacy_restarts += 1

    def _maybe_restart(self) -> None:
        k = self.privacy_restart_interval
        it = self.minimax_iter
        if k and it > 0 and it % k == 0 and self._restarted_at != it:
            self.restart_privacy_branch()
            self._restarted_at = it
            from mmengine.logging import print_log

            print_log(f'minimax iteration {it}: f_B restarted (restart {self.privacy_restarts})',
                      logger='current')

    def _enter_phase(self, model: nn.Module) -> None:
        """Freeze the branches this phase does not update; tell the model the phase.

        As mmagic's ``BaseGAN.train_step`` does with ``set_requires_grad``,
        the parameters of the inactive branches stop requiring grad, and those
        of the active ones require it again. Only parameters this wrapper froze
        itself are turned back on: a parameter frozen by design (the momentum
        key encoder of :class:`MoCoPrivacyHead`, a frozen f_A, a backbone's
        ``frozen_stages``) stays frozen. Then the model's
        ``set_minimax_phase(phase, ssl_weight)`` (:class:`SPActRecognizer`)
        hands the phase and omega to its privacy head.
        """
        active = set(self.active_branches)
        for branch, params in self._branch_params.items():
            for p in params:
                if branch not in active and p.requires_grad:
                    p.requires_grad_(False)
                    self._frozen_here.add(id(p))
                elif branch in active and id(p) in self._frozen_here:
                    p.requires_grad_(True)
                    self._frozen_here.discard(id(p))
        target = model.module if is_model_wrapper(model) else model
        set_phase = getattr(target, 'set_minimax_phase', None)
        if set_phase is not None:
            set_phase(self.phase, self.ssl_weight)
        elif not self._reversal_checked:
            self._check_reversal(target)

    def _check_reversal(self, model: nn.Module) -> None:
        """For a model without ``set_minimax_phase``: step 1 needs a reversal layer (Eq. 9).

        Such a model (e.g. a hand-built one) keeps its own reversal weights and
        phases; this is checked once.
        """
        from spact_mm.models.layers import GradientReversal

        self._reversal_checked = True
        if not (self.anonymizer_steps and self._branch_params.get('privacy')):
            return
        layers = [m for m in model.modules() if isinstance(m, GradientReversal)]
        if not layers:
            raise RuntimeError('the model has a privacy branch but no GradientReversal layer; '
                               'step 1 could not maximise L_B (Eq. 9)')
        if any(m.weight != self.ssl_weight for m in layers):
            from mmengine.logging import print_log

            print_log(f'{type(model).__name__} has no set_minimax_phase: its GradientReversal '
                      f'weights {[m.weight for m in layers]} are used, not ssl_weight='
                      f'{self.ssl_weight}', logger='current', level=30)

    # ------------------------------------------------------ accumulation window
    def _window(self) -> Tuple[int, bool]:
        """Loss divisor and whether this iteration ends its accumulation window.

        The window of ``accumulative_counts`` iterations that holds
        ``minimax_iter`` ends a minimax step; the last, possibly shorter window
        before ``max_iters`` is divided by its own length.
        """
        k = self.accumulative_counts
        start = self.minimax_iter - self.minimax_iter % k
        size = k if self.max_iters < 0 else max(1, min(k, self.max_iters - start))
        return size, self.minimax_iter + 1 - start >= size

    # ------------------------------------------------------------- mmengine API
    @contextmanager
    def optim_context(self, model: nn.Module):
        """Select this iteration's phase and freeze the other branches.

        Also enters autocast for AMP branches, eval mode for the frozen
        branches with ``frozen_branches_eval`` and, inside an accumulation
        window, the model's ``no_sync`` (DDP: gradients are all-reduced only in
        the window's last backward pass).
        """
        if self.channels_last and not self._channels_last_done:
            to_channels_last(model)
            self._channels_last_done = True
        self._maybe_restart()
        self.nonfinite_guard.snapshot(model)  # BN statistics, restored if the step is skipped
        self._enter_phase(model)
        self.message_hub.update_scalar('train/minimax_step', 1. if self.phase == 'anonymizer'
                                       else 2.)
        with ExitStack() as stack:
            if not self._window()[1] and hasattr(model, 'no_sync'):
                stack.enter_context(model.no_sync())
            if self.frozen_branches_eval:
                if not self._branch_modules:
                    raise RuntimeError('frozen_branches_eval needs the branch modules: build '
                                       'the wrapper with MinimaxOptimWrapperConstructor')
                stack.enter_context(eval_modules(
                    modules_outside(self._branch_modules, self.active_branches)))
            if self.use_amp:
                from mmengine.runner.amp import autocast

                stack.enter_context(autocast(dtype=self.cast_dtype))
            yield

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Backpropagate the summed loss once and step the active branches.

        The parameters of the inactive branches do not require grad, so one
        backward pass builds exactly the gradients of Eq. 9 (step 1) or of
        Eq. 7 and 8 (step 2). With AMP the loss is scaled by the shared
        ``GradScaler``; with accumulation the branches step at the end of the
        window only.
        """
        if self._guard_nonfinite(loss):
            return
        active = [self.optim_wrappers[b] for b in self.active_branches]
        divisor, window_ends = self._window()
        loss = loss / divisor
        if self.use_amp:
            loss = self.loss_scaler.scale(loss)
        loss.backward()
        for w in active:
            w._inner_count += 1  # one shared backward pass counts for each branch
        if window_ends and not self.use_amp and self.nonfinite_guard.check_gradients(
                (p for w in active for g in w.optimizer.param_groups for p in g['params']),
                f'minimax {self.phase} step (iteration {self.minimax_iter} of the '
                'alternation)'):
            # a finite loss with a NaN/inf gradient: no branch steps (AMP's GradScaler
            # already skips such steps itself)
            for w in active:
                w.zero_grad(**(zero_kwargs or {}))
            self.minimax_iter += 1
            return
        if window_ends:
            for w in active:
                if self.use_amp:
                    if w.clip_grad_kwargs:
                        self.loss_scaler.unscale_(w.optimizer)
                        w._clip_grad()
                    self.loss_scaler.step(w.optimizer, **(step_kwargs or {}))
                else:
                    w.step(**(step_kwargs or {}))
            if self.use_amp:
                self.loss_scaler.update(self._scale_update_param)
            for w in active:
                w.zero_grad(**(zero_kwargs or {}))
        self.minimax_iter += 1

    # ------------------------------------------------- non-finite loss guard
    def _guard_nonfinite(self, loss: torch.Tensor) -> bool:
        """Skip this iteration's step if ``L_T + L_B`` (or a BN statistic) is not finite.

        Maximising L_B in step 1 (Eq. 9) can blow up, and one non-finite input
        batch makes the loss (and the BatchNorm running statistics of the
        forward pass) non-finite. :class:`NonFiniteGuard` decides: the loss is
        not backpropagated, the buffers are restored to their values before
        the forward pass, the active branches' gradients are zeroed (what the
        accumulation window gathered so far is dropped) and no optimiser steps;
        the iteration still counts for the alternation, so the phase schedule
        is unchanged. Every event is logged and counted
        (``train/nonfinite_skipped`` in the message hub); after
        ``max_nonfinite_in_row`` in a row the run stops with
        :class:`NonFiniteLossError`. In distributed training the ranks agree
        (all-reduce) so that all skip together.

        Returns:
            True if the step must be skipped.
        """
        where = (f'minimax {self.phase} step (iteration {self.minimax_iter} of the '
                 f'alternation)')
        if not self.nonfinite_guard.check(loss, where):
            return False
        for b in self.active_branches:
            w = self.optim_wrappers[b]
            w.zero_grad()
            w._inner_count += 1
        self.minimax_iter += 1
        return True

    def initialize_count_status(self, model: nn.Module, cur_iter: int, max_iters: int) -> None:
        """Initialise every branch's accumulation counters (on resume too)."""
        self.max_iters = max_iters
        for w in self.optim_wrappers.values():
            w.initialize_count_status(model, cur_iter, max_iters)

    @property
    def message_hub(self):
        from mmengine.logging import MessageHub

        return MessageHub.get_current_instance()

    def state_dict(self) -> dict:
        """Every branch's optimiser state, the alternation position and the
        non-finite guard's counters (so a resumed run keeps counting)."""
        state = super().state_dict()
        state['minimax'] = dict(minimax_iter=self.minimax_iter,
                                privacy_restarts=self.privacy_restarts,
                                **self.nonfinite_guard.state_dict())
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore branches and the alternation position."""
        state_dict = dict(state_dict)
        minimax = state_dict.pop('minimax', None)
        super().load_state_dict(state_dict)
        if minimax is not None:
            self.minimax_iter = int(minimax['minimax_iter'])
            self.privacy_restarts = int(minimax.get('privacy_restarts', 0))
            # a run saved after the restart at minimax_iter must not restart again
            k = self.privacy_restart_interval
            if k and self.minimax_iter % k == 0 and self.privacy_restarts >= self.minimax_iter // k:
                self._restarted_at = self.minimax_iter
            self.nonfinite_guard.load_state_dict(minimax)

    def __repr__(self) -> str:
        return (f'MinimaxOptimWrapper(ssl_weight={self.ssl_weight}, anonymizer_steps='
                f'{self.anonymizer_steps}, adversary_steps={self.adversary_steps}, '
                f'frozen_branches_eval={self.frozen_branches_eval}, privacy_restart_interval='
                f'{self.privacy_restart_interval}, privacy_restart_warmup='
                f'{self.privacy_restart_warmup})\n'
                + super().__repr__())
