"""Shared by the reliability tests and their training subprocess (not a test module)."""
import json
import os
import signal
import struct
import uuid

from mmengine.hooks import Hook

from spact_mm.apis.demo import build_stage_cfg
from spact_mm.registry import HOOKS

BRANCHES = ('anonymizer', 'recognizer', 'privacy')


@HOOKS.register_module(force=True)
class LossRecorderHook(Hook):
    """Append every iteration's losses (exact floats) to a JSON-lines file."""

    priority = 'LOW'  # before CheckpointHook (VERY_LOW)

    def __init__(self, path: str) -> None:
        self.path = path

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        row = {'iter': runner.iter + 1, 'phase': runner.optim_wrapper.phase}
        row.update({k: float(v) for k, v in outputs.items()})
        row['lr'] = {b: runner.optim_wrapper[b].get_lr()['lr'][0] for b in BRANCHES}
        with open(self.path, 'a') as f:
            f.write(json.dumps(row) + '\n')


def read_losses(path: str) -> dict:
    """``{iteration: row}`` from a :class:`LossRecorderHook` file."""
    with open(path) as f:
        return {r['iter']: r for r in map(json.loads, f)}


def minimax_cfg(work_dir: str, data_root: str, max_iters: int, record: str):
    """A tiny stage-3 (minimax) run that exercises everything resume must restore.

    Batch 4 over 12 training videos (3 iterations per epoch, so the sampler
    crosses epochs), a checkpoint and a validation every 2 iterations, two
    kept checkpoints, LR schedulers on all three branches, the th_Bmax stop
    hook, deterministic mode, random initial weights (no stage-2 checkpoint).
    """
    cfg = build_stage_cfg('stage3', work_dir, data_root, max_iters=max_iters, num_workers=0)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'reliability_{uuid.uuid4().hex[:8]}'  # fresh MessageHub
    cfg.load_from = None
    cfg.model.pop('init_cfg', None)  # nor the stage-2 hand-over (model init)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.train_dataloader.batch_size = 4
    cfg.val_dataloader.batch_size = 4
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=2, by_epoch=False,
                                        max_keep_ckpts=2)
    cfg.param_scheduler = {
        b: [dict(type='StepLR', step_size=2, gamma=0.5, by_epoch=False)] for b in BRANCHES}
    cfg.custom_hooks = [
        dict(type='SSLLossThresholdHook', threshold=3.3, window=2),
        dict(type='ResumeStateHook'),
        dict(type='LossRecorderHook', path=record),
    ]
    return cfg


def kill_during_checkpoint_write(name: str) -> None:
    """Make the process SIGKILL itself half-way through writing ``name``."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    put = LocalBackend.put

    def put_then_die(self, obj, filepath):
        if os.path.basename(str(filepath)) == name:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        return put(self, obj, filepath)

    LocalBackend.put = put_then_die


def _mp4_boxes(buf: bytes, start: int, end: int):
    """``(offset, size, header_size, type)`` of the ISO-BMFF boxes in ``buf[start:end]``."""
    i = start
    while i < end:
        size, kind = struct.unpack('>I4s', buf[i:i + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack('>Q', buf[i + 8:i + 16])[0], 16
        elif size == 0:
            size = end - i
        yield i, size, header, kind
        i += size


def faststart_mp4(data: bytes) -> bytes:
    """The same mp4 with its index (``moov``) moved before the media data (``mdat``).

    What ``ffmpeg -movflags +faststart`` does, written by hand because the test
    machine has no ffmpeg: OpenCV's writer puts ``moov`` last, so a cut file
    loses its index; a faststart file keeps it and declares every frame. The
    chunk offsets (``stco``/``co64``) are shifted by the size of ``moov``.
    """
    containers = {b'moov', b'trak', b'mdia', b'minf', b'stbl', b'edts'}
    top = list(_mp4_boxes(data, 0, len(data)))
    kinds = [k for *_, k in top]
    at, size = top[kinds.index(b'moov')][:2]
    mdat_at = top[kinds.index(b'mdat')][0]
    assert mdat_at < at, 'already faststart'
    moov = bytearray(data[at:at + size])

    def shift(s: int, e: int) -> None:
        for i, n, header, kind in _mp4_boxes(moov, s, e):
            if kind in containers:
                shift(i + header, i + n)
            elif kind in (b'stco', b'co64'):
                width, fmt = (4, '>I') if kind == b'stco' else (8, '>Q')
                count = struct.unpack('>I', moov[i + 12:i + 16])[0]
                for k in range(count):
                    o = i + 16 + width * k
                    moov[o:o + width] = struct.pack(fmt, struct.unpack(fmt, moov[o:o + width])[0]
                                                    + size)

    shift(0, len(moov))
    rest = data[:at] + data[at + size:]
    return rest[:mdat_at] + bytes(moov) + rest[mdat_at:]


def main() -> None:
    """Subprocess entry:
    ``python reliability_helpers.py WORK DATA MAX_ITERS RECORD KILL_AT THREADS``.

    ``THREADS`` must be the parent's ``torch.get_num_threads()``: CPU kernels sum
    in an order that depends on the thread count, so runs with different counts
    part in the last digits (the CI failure of 2026-12-01, where an earlier test
    had left the parent at one thread).
    """
    import sys

    import torch
    from mmengine.runner import Runner

    work, data, max_iters, record, kill_name, threads = sys.argv[1:7]
    torch.set_num_threads(int(threads))
    kill_during_checkpoint_write(kill_name)
    Runner.from_cfg(minimax_cfg(work, data, int(max_iters), record)).train()


if __name__ == '__main__':
    import spact_mm  # noqa: F401

    main()
