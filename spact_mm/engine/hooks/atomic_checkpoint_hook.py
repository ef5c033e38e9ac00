"""Checkpoints that a crash (SIGKILL, full disk, power loss) can never half-write."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from spact_mm.registry import HOOKS
from spact_mm.utils.checkpoint import atomic_write_bytes


def _fsync_file(path: str) -> None:
    with open(path, 'rb+') as f:
        os.fsync(f.fileno())


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe writes (a drop-in ``type``).

    mmengine 0.10 writes ``iter_{k}.pth`` in place, writes ``last_checkpoint``
    in place, and deletes the oldest kept checkpoint *before* writing the new
    one. A kill in the middle of a save can therefore leave a truncated file
    under a final name, an empty ``last_checkpoint``, or (with
    ``max_keep_ckpts=1``) no good checkpoint at all. This hook changes only the
    order and the mechanics of those three writes:

    1. the checkpoint is written to ``.iter_{k}.pth.tmp`` in the same folder,
       flushed to disk and renamed to ``iter_{k}.pth`` (``os.replace``, atomic);
    2. ``last_checkpoint`` is then replaced atomically the same way;
    3. only then are checkpoints beyond ``max_keep_ckpts`` deleted.

    A crash at any point leaves either the previous state or the new one, so
    ``resume`` (and ``tools/train.py --resume``) always finds a complete
    checkpoint. Every argument is ``CheckpointHook``'s. Only checkpoints on the
    local file system are made atomic (other backends, e.g. ``s3://``, fall back
    to mmengine's behaviour); the "best" checkpoint of ``save_best`` is written
    by mmengine as before.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        # Bookkeeping first, as mmengine does, so the checkpoint's message hub
        # records itself as kept and as the last checkpoint; deletion waits.
        to_remove = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                to_remove.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        tmp_filename = f'.{ckpt_filename}.tmp'
        tmp_path = self.file_backend.join_path(self.out_dir, tmp_filename)
        try:
            runner.save_checkpoint(
                self.out_dir,
                tmp_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
            if not is_main_process():
                return
            _fsync_file(tmp_path)
            os.replace(tmp_path, self.last_ckpt)
        finally:
            if is_main_process() and osp.exists(tmp_path):
                os.remove(tmp_path)  # a failed write: drop the partial file
        atomic_write_bytes(self.last_ckpt.encode(), osp.join(runner.work_dir, 'last_checkpoint'))
        for old in to_remove:
            old_path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(old_path):
                self.file_backend.remove(old_path)
            elif self.file_backend.isdir(old_path):
                self.file_backend.rmtree(old_path)
