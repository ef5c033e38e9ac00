"""Save and restore what mmengine's checkpoints leave out, for bit-exact resume."""
import itertools
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmengine.hooks import EarlyStoppingHook, Hook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from spact_mm.registry import HOOKS

from .ssl_loss_threshold_hook import SSLLossThresholdHook

#: Attributes holding the running state of stop-rule hooks that have no
#: ``state_dict`` of their own (mmengine 0.10's ``EarlyStoppingHook`` forgets its
#: patience count and best score on resume).
HOOK_STATE_ATTRS = {
    EarlyStoppingHook: ('wait_count', 'best_score'),
    SSLLossThresholdHook: ('stopped_at', ),
}


def get_rng_state() -> Dict[str, Any]:
    """States of Python's, numpy's and torch's (CPU and CUDA) global generators."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore the states returned by :func:`get_rng_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreRNGBeforeNext:
    """Wraps a train loop's data iterator: after ``skip`` batches (mmengine's
    replay of the batches trained before the checkpoint), restore ``state``
    right before the next batch is fetched, exactly where the uninterrupted run
    was when it wrote the checkpoint."""

    def __init__(self, iterator, skip: int, state: Dict[str, Any]) -> None:
        self._inner = iterator
        self._skip = skip
        self._state: Optional[Dict[str, Any]] = state

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip > 0:
            self._skip -= 1
        elif self._state is not None:
            set_rng_state(self._state)
            self._state = None
        return next(self._inner)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Make a resumed run continue bit-exactly where the checkpoint was written.

    mmengine's checkpoint already holds the model, every optimiser (for SPAct
    all three branches and the minimax phase, see ``MinimaxOptimWrapper``), the
    LR schedulers, the message hub (so the running L_B mean that
    ``SSLLossThresholdHook`` watches) and the iteration; on resume the
    ``IterBasedTrainLoop`` replays the sampler up to that iteration. Three
    things are missing, and this hook adds them:

    - the global random generators (Python, numpy, torch; CUDA when in use)
      that drive data augmentation and S_F's frame-pair draws: saved with the
      checkpoint and restored right before the first new batch is fetched,
      after mmengine's replay of the already-trained batches (which itself
      consumes random numbers);
    - the state of stop-rule hooks: ``state_dict()``/``load_state_dict()`` of
      any hook that has them, and the attributes in :data:`HOOK_STATE_ATTRS`
      (the patience counter of the th_A0 ``EarlyStoppingHook``);
    - validation does not consume the training random stream (the generators
      are restored after each validation), so a run that validated right after
      writing its checkpoint and a run resumed from it draw the same numbers;
    - the final validation of a run resumed from its last checkpoint (written
      at ``max_iters``, or ``max_epochs``). mmengine's train loop writes that
      checkpoint, then validates; a kill in between loses the validation, and
      on resume the loop has nothing left to train, so it never validates
      (nor do the hooks that act on validation: ``save_best``, early stopping,
      ``PrivacyProbeHook``). This hook then runs the loop's validation when
      training ends, with the random generators of the checkpoint (as the
      uninterrupted run had them at that validation), before
      ``FinalCheckpointHook`` writes ``final.pth``. The already-trained
      batches are not replayed (mmengine would decode all of them for nothing).

    The checkpoint also records the CPU thread count (``torch.get_num_threads()``).
    CPU kernels split their sums over the threads, so a run resumed with another
    count takes a different rounding path and parts from the uninterrupted
    trajectory in the last digits; the hook warns when the counts differ.

    Only a resumed run (``resume=True``, iteration > 0) is restored;
    ``load_from`` without resume starts fresh. In multi-process training the
    checkpoint holds rank 0's generators only (mmengine writes it on rank 0).

    Args:
        restore_rng: Restore the random generators on resume.
    """

    priority = 'VERY_HIGH'

    def __init__(self, restore_rng: bool = True) -> None:
        self.restore_rng = restore_rng
        self._loaded: Optional[Dict[str, Any]] = None
        self._val_rng: Optional[Dict[str, Any]] = None
        self._final_val_due = False

    @staticmethod
    def _resumed_at_end(runner) -> bool:
        """Whether the train loop starts with nothing left to train (a resume at its end)."""
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            return 0 < loop.max_iters <= loop.iter
        if isinstance(loop, EpochBasedTrainLoop):
            return 0 < loop.max_epochs <= loop.epoch
        return False

    @staticmethod
    def _final_val_is_due(runner) -> bool:
        """Whether the loop validates after its last iteration/epoch (mmengine's rule:
        a validation loop exists and the last step is at or after ``val_begin``)."""
        loop = runner.train_loop
        last = loop.max_iters if isinstance(loop, IterBasedTrainLoop) else loop.max_epochs
        return runner.val_loop is not None and last >= getattr(loop, 'val_begin', 1)

    @staticmethod
    def _hook_key(runner, hook) -> str:
        same = [h for h in runner.hooks if type(h) is type(hook)]
        return f'{type(hook).__name__}.{same.index(hook)}'

    def _hook_states(self, runner) -> Dict[str, Any]:
        states = {}
        for hook in runner.hooks:
            if hook is self:
                continue
            if callable(getattr(hook, 'state_dict', None)):
                states[self._hook_key(runner, hook)] = hook.state_dict()
                continue
            for cls, attrs in HOOK_STATE_ATTRS.items():
                if isinstance(hook, cls):
                    states[self._hook_key(runner, hook)] = {a: getattr(hook, a) for a in attrs}
        return states

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['resume_state'] = dict(rng=get_rng_state(), hooks=self._hook_states(runner),
                                          num_threads=torch.get_num_threads())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get('resume_state')

    def before_train(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        self._final_val_due = False
        if runner.iter == 0 and runner.epoch == 0:
            return  # a fresh run, or ``load_from`` without resume
        at_end = self._resumed_at_end(runner)
        if at_end:
            self._final_val_due = self._final_val_is_due(runner)
            loop = runner.train_loop
            if isinstance(loop, IterBasedTrainLoop):  # nothing to train: skip the replay
                loop.dataloader_iterator = itertools.repeat(None)
            runner.logger.info('resumed from the checkpoint of the last training step: ' + (
                'the final validation runs when training ends' if self._final_val_due
                else 'no validation is due'))
        if loaded is None:
            runner.logger.warning('the resumed checkpoint holds no random-generator or hook '
                                  'state (not written with ResumeStateHook): the run continues '
                                  'but will not repeat the uninterrupted trajectory exactly')
            return
        saved_threads = loaded.get('num_threads')
        if saved_threads is not None and saved_threads != torch.get_num_threads():
            runner.logger.warning(
                f'the checkpoint was written with {saved_threads} CPU threads and this run '
                f'uses {torch.get_num_threads()}: CPU sums are split differently, so the run '
                'will not repeat the uninterrupted trajectory bit for bit (set '
                f'OMP_NUM_THREADS={saved_threads} for that)')
        for hook in runner.hooks:
            state = loaded['hooks'].get(self._hook_key(runner, hook))
            if state is None or hook is self:
                continue
            if callable(getattr(hook, 'load_state_dict', None)):
                hook.load_state_dict(state)
            else:
                for name, value in state.items():
                    setattr(hook, name, value)
        if not self.restore_rng:
            return
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop._iter > 0 and not at_end:
            loop.dataloader_iterator = _RestoreRNGBeforeNext(loop.dataloader_iterator,
                                                             loop._iter, loaded['rng'])
        else:  # epoch-based (an epoch boundary), or at the end: nothing is replayed
            set_rng_state(loaded['rng'])
        runner.logger.info('restored random generators and stop-rule hook states from the '
                           'checkpoint')

    def after_train(self, runner) -> None:
        """The final validation that a resume at the end would otherwise skip."""
        if self._final_val_due:
            self._final_val_due = False
            runner.logger.info('running the final validation of the resumed run')
            runner.val_loop.run()

    def before_val(self, runner) -> None:
        self._val_rng = get_rng_state()

    def after_val(self, runner) -> None:
        if self._val_rng is not None:
            set_rng_state(self._val_rng)
            self._val_rng = None
