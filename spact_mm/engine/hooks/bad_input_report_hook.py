"""Report the bad inputs that a ``on_bad_input='skip'`` dataset skipped, every epoch."""
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from spact_mm.registry import HOOKS


def _policy_datasets(dataset):
    """The datasets with a bad-input policy inside ``dataset`` (through wrappers)."""
    if hasattr(dataset, 'num_skipped_at_fetch'):
        yield dataset
    for child in getattr(dataset, 'datasets', []) or []:
        yield from _policy_datasets(child)
    # ConcatDataset/RepeatDataset wrap ``dataset``; ActionPrivacyPairDataset
    # holds ``action`` and ``privacy``.
    for name in ('dataset', 'action', 'privacy'):
        inner = getattr(dataset, name, None)
        if inner is not None:
            yield from _policy_datasets(inner)


@HOOKS.register_module()
class BadInputReportHook(Hook):
    """Log and record the number of skipped bad inputs at the end of each epoch.

    Works with :class:`~spact_mm.datasets.RobustVideoDataset` and
    :class:`~spact_mm.datasets.RobustPrivacyImageDataset` and every dataset
    built on them (also inside ``ConcatDataset``/``RepeatDataset`` and both
    halves of ``ActionPrivacyPairDataset``). Before training it reports the items
    dropped while reading the annotation files; after each epoch (for an
    iteration-based loop: after each pass over the training dataloader) the
    samples skipped while loading, in that epoch and in total (all dataloader
    workers together), as a warning and as the message-hub scalars
    ``train/bad_inputs_skipped`` (total, loading) and
    ``train/bad_inputs_skipped_at_load``. With prefetching, a skip may be
    counted one epoch late; skips made before the first report (mmengine's
    iteration-based loop starts the workers before ``before_train``) count for
    epoch 1, and skips after the last report are reported when training ends,
    so the epochs always add up to the total.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self._reported = 0
        self._epoch = 0

    def _datasets(self, runner):
        return list(_policy_datasets(runner.train_dataloader.dataset))

    def before_train(self, runner) -> None:
        datasets = self._datasets(runner)
        # Not the current count: workers that started prefetching before this
        # hook ran (IterBasedTrainLoop builds its iterator early) skipped for epoch 1.
        self._reported = 0
        at_load = sum(len(d.skipped_at_load) for d in datasets)
        runner.message_hub.update_scalar('train/bad_inputs_skipped_at_load', float(at_load))
        if at_load:
            runner.logger.warning(f'{at_load} bad annotation lines/files were skipped while '
                                  f'reading the training annotation files (listed above)')

    def _report(self, runner, final: bool = False) -> None:
        total = sum(d.num_skipped_at_fetch for d in self._datasets(runner))
        if final:
            if total > self._reported:
                runner.logger.warning(f'bad-input report, end of training: '
                                      f'{total - self._reported} samples skipped while '
                                      f'loading after the last epoch report, {total} in total')
                self._reported = total
                runner.message_hub.update_scalar('train/bad_inputs_skipped', float(total))
            return
        self._epoch += 1
        new, self._reported = total - self._reported, total
        runner.message_hub.update_scalar('train/bad_inputs_skipped', float(total))
        level = runner.logger.warning if new else runner.logger.info
        level(f'bad-input report, epoch {self._epoch}: {new} samples skipped while loading '
              f'this epoch, {total} in total')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            n = len(runner.train_dataloader)
            if n and (runner.iter + 1) % n == 0:
                self._report(runner)

    def after_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            self._report(runner)

    def after_train(self, runner) -> None:
        self._report(runner, final=True)
