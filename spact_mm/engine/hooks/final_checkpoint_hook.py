"""Save a stage's final weights under a fixed name, so the next stage finds them."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from spact_mm.registry import HOOKS


@HOOKS.register_module()
class FinalCheckpointHook(Hook):
    """Write ``{work_dir}/{filename}`` (model weights + meta) when training ends.

    SPAct's stages chain through config: stage 2 loads f_A from stage 1's
    ``final.pth`` and stage 3 loads all three networks from stage 2's. A stop
    rule may end a stage at any iteration, so the iteration-numbered files of
    ``CheckpointHook`` cannot be named in the next stage's config; this one
    can. The file is written next to its final place and renamed over it, so a
    crash never leaves a half-written ``final.pth``.

    Args:
        filename: Name of the file in the work dir.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'final.pth') -> None:
        self.filename = filename

    def after_train(self, runner) -> None:
        """Write ``.{filename}.tmp``, fsync it, rename it; a failed write leaves no file."""
        from spact_mm.utils.checkpoint import fsync_file

        tmp = f'.{self.filename}.tmp'
        tmp_path = osp.join(runner.work_dir, tmp)
        final = osp.join(runner.work_dir, self.filename)
        try:
            # Every rank calls save_checkpoint (it synchronises), only rank 0 writes.
            runner.save_checkpoint(runner.work_dir, tmp, save_optimizer=False,
                                   save_param_scheduler=False)
            if is_main_process():
                fsync_file(tmp_path)
                os.replace(tmp_path, final)
        finally:
            if is_main_process() and osp.lexists(tmp_path):
                os.remove(tmp_path)  # a failed write: drop the partial file
        if is_main_process():
            runner.logger.info(f'final weights saved to {final}')
