"""The minimax alternation of SPAct (Sec. 3.3, Eq. 7-9) as an optim wrapper."""
from contextlib import ExitStack, contextmanager
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict

from spact_mm.registry import OPTIM_WRAPPERS

BRANCHES = ('anonymizer', 'recognizer', 'privacy')
#: Branches updated in each phase: step 1 (Eq. 9) and step 2 (Eq. 7, 8).
PHASE_BRANCHES = {'anonymizer': ('anonymizer', ), 'adversary': ('recognizer', 'privacy')}


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
      gradient reversal layer whose weight this wrapper sets to ``ssl_weight``,
      so f_A's gradient of the summed loss is ``grad(L_T) - w * grad(L_B)``.
    - step 2 (``'adversary'``, Eq. 7 and 8): only f_T and f_B require grad;
      f_A, with no parameter requiring grad, records no autograd graph. f_T's
      gradient of the sum is ``grad(L_T)`` and f_B's is ``grad(L_B)``.

    Each cycle runs ``anonymizer_steps`` step-1 iterations, then
    ``adversary_steps`` step-2 iterations. A branch without an optimiser is
    never updated (e.g. stage 2 has no ``anonymizer`` branch; the "frozen f_B"
    ablation has no ``privacy`` branch). Build it with
    :class:`MinimaxOptimWrapperConstructor`.

    Args:
        ssl_weight: omega of Eq. 9, in (0, 1].
        anonymizer_steps: Step-1 iterations per cycle.
        adversary_steps: Step-2 iterations per cycle.
        **optim_wrappers: ``OptimWrapper`` per branch (keys ``anonymizer``,
            ``recognizer``, ``privacy``).
    """

    def __init__(self,
                 ssl_weight: float = 1.0,
                 anonymizer_steps: int = 1,
                 adversary_steps: int = 1,
                 **optim_wrappers: OptimWrapper) -> None:
        unknown = set(optim_wrappers) - set(BRANCHES)
        if unknown:
            raise KeyError(f'unknown branches {sorted(unknown)}; expected {BRANCHES}')
        super().__init__(**optim_wrappers)
        if not 0 < ssl_weight <= 1:
            raise ValueError(f'ssl_weight (omega of Eq. 9) must be in (0, 1], got {ssl_weight}')
        if anonymizer_steps < 0 or adversary_steps < 0 or anonymizer_steps + adversary_steps == 0:
            raise ValueError('anonymizer_steps and adversary_steps must be >= 0, not both 0')
        if anonymizer_steps and 'anonymizer' not in optim_wrappers:
            raise ValueError('anonymizer_steps > 0 needs an `anonymizer` optimiser')
        if adversary_steps and not {'recognizer', 'privacy'} & set(optim_wrappers):
            raise ValueError('adversary_steps > 0 needs a `recognizer` or `privacy` optimiser')
        if any(isinstance(w, AmpOptimWrapper) for w in optim_wrappers.values()):
            raise NotImplementedError('AmpOptimWrapper branches are not supported yet')
        counts = {w._accumulative_counts for w in optim_wrappers.values()}
        if len(counts) > 1:
            raise ValueError('all branches must use the same accumulative_counts')
        self.ssl_weight = float(ssl_weight)
        self.anonymizer_steps = anonymizer_steps
        self.adversary_steps = adversary_steps
        self.minimax_iter = 0  # iterations done; the phase is derived from it
        self._branch_params: Dict[str, List[nn.Parameter]] = {}

    # ------------------------------------------------------------------ phase
    @property
    def phase(self) -> str:
        """``'anonymizer'`` (step 1) or ``'adversary'`` (step 2) for this iteration."""
        pos = self.minimax_iter % (self.anonymizer_steps + self.adversary_steps)
        return 'anonymizer' if pos < self.anonymizer_steps else 'adversary'

    @property
    def active_branches(self) -> List[str]:
        """Branches with an optimiser that the current phase updates."""
        return [b for b in PHASE_BRANCHES[self.phase] if b in self.optim_wrappers]

    def set_branch_params(self, branch_params: Dict[str, List[nn.Parameter]]) -> None:
        """Tell the wrapper every branch's parameters (set by the constructor).

        Branches listed here without an optimiser are kept frozen.
        """
        self._branch_params = {k: list(v) for k, v in branch_params.items()}

    def _set_requires_grad(self, model: nn.Module) -> None:
        active = set(self.active_branches)
        for branch, params in self._branch_params.items():
            for p in params:
                p.requires_grad_(branch in active)
        from spact_mm.models.layers import GradientReversal

        found = False
        for m in model.modules():
            if isinstance(m, GradientReversal):
                m.weight = self.ssl_weight
                found = True
        if self.anonymizer_steps and 'privacy' in self._branch_params and not found:
            raise RuntimeError('the model has a privacy branch but no GradientReversal layer; '
                               'step 1 could not maximise L_B (Eq. 9)')

    # ------------------------------------------------------------- mmengine API
    @contextmanager
    def optim_context(self, model: nn.Module):
        """Select this iteration's phase, freeze the other branches, and enter
        the active branches' own contexts (gradient accumulation)."""
        self._set_requires_grad(model)
        self.message_hub.update_scalar('train/minimax_step', 1. if self.phase == 'anonymizer'
                                       else 2.)
        with ExitStack() as stack:
            for b in self.active_branches:
                stack.enter_context(self.optim_wrappers[b].optim_context(model))
            yield

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Backpropagate the summed loss once and step the active branches.

        The parameters of the inactive branches do not require grad, so one
        backward pass builds exactly the gradients of Eq. 9 (step 1) or of
        Eq. 7 and 8 (step 2).
        """
        active = [self.optim_wrappers[b] for b in self.active_branches]
        lead = active[0]
        lead.backward(lead.scale_loss(loss))
        for w in active[1:]:
            w._inner_count += 1  # one shared backward pass counts for each branch
        for w in active:
            if w.should_update():
                w.step(**(step_kwargs or {}))
                w.zero_grad(**(zero_kwargs or {}))
        self.minimax_iter += 1

    def initialize_count_status(self, model: nn.Module, cur_iter: int, max_iters: int) -> None:
        """Initialise every branch's accumulation counters (on resume too)."""
        for w in self.optim_wrappers.values():
            w.initialize_count_status(model, cur_iter, max_iters)

    @property
    def message_hub(self):
        from mmengine.logging import MessageHub

        return MessageHub.get_current_instance()

    def state_dict(self) -> dict:
        """Every branch's optimiser state plus the alternation position."""
        state = super().state_dict()
        state['minimax'] = dict(minimax_iter=self.minimax_iter)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore branches and the alternation position."""
        state_dict = dict(state_dict)
        minimax = state_dict.pop('minimax', None)
        super().load_state_dict(state_dict)
        if minimax is not None:
            self.minimax_iter = int(minimax['minimax_iter'])

    def __repr__(self) -> str:
        return (f'MinimaxOptimWrapper(ssl_weight={self.ssl_weight}, anonymizer_steps='
                f'{self.anonymizer_steps}, adversary_steps={self.adversary_steps})\n'
                + super().__repr__())
