"""Stop rule of the minimax stage: stop once L_B reaches th_Bmax (Sec. 3.3)."""
from typing import Optional

from mmengine.hooks import Hook

from spact_mm.registry import HOOKS


@HOOKS.register_module()
class SSLLossThresholdHook(Hook):
    """Stop training when the running mean of L_B reaches ``threshold``.

    SPAct's two-step iteration "continues until L_B reaches a maximum value
    th_Bmax". After each training iteration this hook reads the moving average
    of ``loss_key`` over ``window`` iterations from the message hub and, once
    it is at least ``threshold``, asks the train loop to stop (mmengine's
    ``stop_training`` flag, as its ``EarlyStoppingHook`` does). The stop rule
    of stage 1 (f_A reconstruction <= th_A0, Eq. 6) is mmengine's own
    ``EarlyStoppingHook`` with ``stopping_threshold``; see the stage-1 configs.

    The watched loss is by default the model's privacy loss, the ``loss_key``
    of its privacy head (:class:`BasePrivacyHead`): ``loss_ssl`` (L_B) for
    SPAct's heads, ``loss_privacy`` for the supervised head of [41].

    Args:
        threshold: th_Bmax; ``None`` turns the rule off (a config that inherits
            the hook and has no stop rule, e.g. ``default_hooks.stop_rule``).
        loss_key: Logged loss to watch; ``None`` (default): the privacy
            head's ``loss_key`` (``loss_ssl`` if the model has none).
        window: Iterations averaged.
        min_iters: Do not stop before this many iterations.
    """

    priority = 'LOW'

    def __init__(self, threshold: Optional[float], loss_key: Optional[str] = None, window: int = 10,
                 min_iters: int = 0) -> None:
        self.threshold = None if threshold is None else float(threshold)
        self.loss_key = loss_key
        self.window = window
        self.min_iters = min_iters
        self.stopped_at: Optional[int] = None

    def before_train(self, runner) -> None:
        """Resolve the default ``loss_key`` from the model's privacy head."""
        if self.loss_key is None:
            from mmengine.model import is_model_wrapper

            model = getattr(runner, 'model', None)
            model = model.module if is_model_wrapper(model) else model
            self.loss_key = getattr(model, 'privacy_loss_key', None) or 'loss_ssl'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.threshold is None or runner.iter + 1 < self.min_iters:
            return
        if self.loss_key is None:
            self.before_train(runner)
        scalars = runner.message_hub.log_scalars
        key = f'train/{self.loss_key}'
        if key not in scalars:
            return
        buffer = scalars[key]
        if len(buffer.data[0]) < self.window:
            return
        value = float(buffer.mean(self.window))
        if value >= self.threshold:
            runner.logger.info(f'{self.loss_key} mean over {self.window} iters = {value:.4f} '
                               f'>= th_Bmax = {self.threshold}: stopping minimax training')
            self.stopped_at = runner.iter + 1
            runner.train_loop.stop_training = True
