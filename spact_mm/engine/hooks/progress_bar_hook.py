"""A progress bar for the protocol driver's and the audit's training runs."""
from mmengine.hooks import Hook

from spact_mm.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """A tqdm progress bar over training iterations (and one over test batches)."""

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'train') -> None:
        self.desc = desc
        self._bar = None

    def before_train(self, runner) -> None:  # noqa: D102
        from tqdm import tqdm

        self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc,
                         dynamic_ncols=True, leave=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Advance the bar and show the current loss."""
        if self._bar is not None:
            self._bar.update(1)
            if outputs and 'loss' in outputs:
                self._bar.set_postfix(loss=f"{float(outputs['loss']):.3f}")

    def after_train(self, runner) -> None:  # noqa: D102
        if self._bar is not None:
            self._bar.close()
            self._bar = None
