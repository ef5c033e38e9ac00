"""Kill, resume, atomic checkpoint writes and determinism, on a tiny minimax run (CPU)."""
import hashlib
import os
import os.path as osp
import subprocess
import sys
from collections import deque

import pytest
import torch
from mmengine.runner import Runner
from reliability_helpers import minimax_cfg, read_losses

from spact_mm.datasets.synthetic import generate_synthetic_dataset
from spact_mm.utils import load_checkpoint_safely

HERE = osp.dirname(osp.abspath(__file__))
N = 4  # iterations of the uninterrupted run (3 batches per epoch: crosses an epoch)
THREADS = 1  # every run of this module, in this process and in the subprocess


@pytest.fixture(scope='module', autouse=True)
def pinned_threads():
    """One CPU thread count for all runs compared here, whatever earlier tests left.

    CPU kernels sum in an order that depends on the thread count; runs at
    different counts part in the 6th digit, which is not what these tests measure.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, seed=0, videos_per_class=3, val_videos_per_class=1)
    return root


@pytest.fixture(scope='module')
def uninterrupted(tiny_data, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('uninterrupted'))
    record = osp.join(work, 'losses.jsonl')
    runner = Runner.from_cfg(minimax_cfg(work, tiny_data, N, record))
    runner.train()
    return work, read_losses(record), runner


def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def assert_same_checkpoint(a, b):
    """Model weights, all three optimisers, minimax phase and LR schedulers bit-identical."""
    ca, cb = load_checkpoint_safely(a), load_checkpoint_safely(b)
    assert ca['state_dict'].keys() == cb['state_dict'].keys()
    for k in ca['state_dict']:
        assert torch.equal(ca['state_dict'][k], cb['state_dict'][k]), k
    assert ca['optimizer']['minimax'] == cb['optimizer']['minimax']
    for branch in ('anonymizer', 'recognizer', 'privacy'):
        sa, sb = ca['optimizer'][branch]['state'], cb['optimizer'][branch]['state']
        assert sa.keys() == sb.keys() and len(sa) > 0
        for pid in sa:
            for name, va in sa[pid].items():
                assert torch.equal(torch.as_tensor(va), torch.as_tensor(sb[pid][name]))
    assert ca['param_schedulers'] == cb['param_schedulers']
    assert ca['meta']['iter'] == cb['meta']['iter']


@pytest.fixture(scope='module')
def killed_and_resumed(uninterrupted, tiny_data, tmp_path_factory):
    """A second process trains the same run and is SIGKILLed half-way through writing
    iter_4's bytes; then the run is resumed from its work dir, as ``--resume`` does."""
    work = str(tmp_path_factory.mktemp('killed'))
    killed_record = osp.join(work, 'killed.jsonl')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(
        [sys.executable, osp.join(HERE, 'reliability_helpers.py'), work, tiny_data, str(N),
         killed_record, f'.iter_{N}.pth.tmp', str(THREADS)], env=env, capture_output=True,
        text=True, timeout=300)
    on_disk = dict(
        returncode=proc.returncode, stderr=proc.stderr[-3000:],
        files=sorted(os.listdir(work)), killed=read_losses(killed_record),
        last_checkpoint=open(osp.join(work, 'last_checkpoint')).read(),
        iter2_sha=sha(osp.join(work, 'iter_2.pth')))
    resumed_record = osp.join(work, 'resumed.jsonl')
    cfg = minimax_cfg(work, tiny_data, N, resumed_record)
    cfg.resume = True  # load_from None: the work dir's latest checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    return work, on_disk, read_losses(resumed_record), runner


def test_sigkill_mid_checkpoint_write_loses_nothing_written(uninterrupted, killed_and_resumed):
    ref_work, ref, _ = uninterrupted
    work, on_disk, _, _ = killed_and_resumed
    assert on_disk['returncode'] == -9, on_disk['stderr']
    assert sorted(on_disk['killed']) == [1, 2, 3, 4]
    assert all(on_disk['killed'][i] == ref[i] for i in on_disk['killed'])
    # The half-written bytes stayed in the temporary file; iter_2 is complete and latest.
    assert f'.iter_{N}.pth.tmp' in on_disk['files'] and f'iter_{N}.pth' not in on_disk['files']
    assert on_disk['last_checkpoint'] == osp.join(work, 'iter_2.pth')
    # Two separate processes, same seed, deterministic mode: identical checkpoints.
    assert_same_checkpoint(osp.join(ref_work, 'iter_2.pth'), osp.join(work, 'iter_2.pth'))


def test_resume_after_kill_repeats_the_uninterrupted_trajectory(uninterrupted,
                                                                killed_and_resumed):
    ref_work, ref, _ = uninterrupted
    work, on_disk, resumed, runner = killed_and_resumed
    assert sorted(resumed) == [3, 4]
    for i in resumed:  # every loss term, the minimax phase and the three LRs, bit for bit
        assert resumed[i] == ref[i], (i, resumed[i], ref[i])
    assert runner.optim_wrapper.minimax_iter == N
    assert_same_checkpoint(osp.join(ref_work, f'iter_{N}.pth'), osp.join(work, f'iter_{N}.pth'))
    assert not osp.exists(osp.join(work, f'.iter_{N}.pth.tmp'))


def run_logs(work: str) -> str:
    """The text of every mmengine log file of the runs in ``work``."""
    import glob

    return ''.join(open(p).read() for p in glob.glob(osp.join(work, '*', '*.log')))


def test_resume_with_another_thread_count_warns(uninterrupted, killed_and_resumed, tiny_data,
                                                 tmp_path):
    ref_work, _, _ = uninterrupted
    assert 'CPU threads' not in run_logs(killed_and_resumed[0])  # same count: no warning
    cfg = minimax_cfg(str(tmp_path), tiny_data, 3, osp.join(str(tmp_path), 'r.jsonl'))
    cfg.resume, cfg.load_from = True, osp.join(ref_work, 'iter_2.pth')
    cfg.train_cfg.val_interval = 100
    torch.set_num_threads(THREADS + 1)
    try:
        Runner.from_cfg(cfg).train()
    finally:
        torch.set_num_threads(THREADS)
    assert (f'written with {THREADS} CPU threads and this run uses {THREADS + 1}'
            in run_logs(str(tmp_path)))


def test_resume_without_resume_state_hook_is_not_exact(uninterrupted, tiny_data, tmp_path):
    """The reference the exactness test is measured against: mmengine alone is not exact
    (the random generators driving clip sampling and S_F restart from the seed)."""
    ref_work, ref, _ = uninterrupted
    record = osp.join(str(tmp_path), 'r.jsonl')
    cfg = minimax_cfg(str(tmp_path), tiny_data, 3, record)
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] != 'ResumeStateHook']
    cfg.resume, cfg.load_from = True, osp.join(ref_work, 'iter_2.pth')
    cfg.train_cfg.val_interval = 100
    Runner.from_cfg(cfg).train()
    got = read_losses(record)
    assert sorted(got) == [3]
    assert got[3]['loss'] != ref[3]['loss']
    ck = load_checkpoint_safely(osp.join(ref_work, 'iter_2.pth'))
    assert {'python', 'numpy', 'torch'} <= set(ck['resume_state']['rng'])


def half_then_fail(self, obj, filepath):
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
    raise OSError(28, 'No space left on device')


def test_failed_checkpoint_write_replaces_and_deletes_nothing(uninterrupted, monkeypatch):
    """A write that fails half-way (disk full) leaves the previous checkpoint, even with
    ``max_keep_ckpts=1``."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    work, _, runner = uninterrupted
    hook = next(h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')
    good = osp.join(work, f'iter_{N}.pth')
    before = sha(good)
    monkeypatch.setattr(hook, 'max_keep_ckpts', 1)
    monkeypatch.setattr(hook, 'keep_ckpt_ids', deque([N]))
    monkeypatch.setattr(LocalBackend, 'put', half_then_fail)
    with pytest.raises(OSError, match='No space left'):
        hook._save_checkpoint_with_step(runner, N + 2, dict(iter=N + 2))
    monkeypatch.undo()
    assert sha(good) == before
    assert not osp.exists(osp.join(work, f'iter_{N + 2}.pth'))
    assert not osp.exists(osp.join(work, f'.iter_{N + 2}.pth.tmp'))
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read() == good


def test_mmengine_checkpoint_hook_would_lose_the_checkpoint(uninterrupted, tmp_path,
                                                            monkeypatch):
    """The same failure with mmengine's own ``CheckpointHook``: no good checkpoint is left."""
    import shutil

    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.hooks import CheckpointHook

    work, _, runner = uninterrupted
    out = str(tmp_path)
    shutil.copy(osp.join(work, f'iter_{N}.pth'), out)
    hook = CheckpointHook(interval=2, by_epoch=False, max_keep_ckpts=1)
    hook.out_dir, hook.file_backend = out, LocalBackend()
    hook.keep_ckpt_ids = deque([N])
    monkeypatch.setattr(runner, '_work_dir', out)
    monkeypatch.setattr(LocalBackend, 'put', half_then_fail)
    with pytest.raises(OSError):
        hook._save_checkpoint_with_step(runner, N + 2, dict(iter=N + 2))
    monkeypatch.undo()
    assert not osp.exists(osp.join(out, f'iter_{N}.pth'))  # deleted before the write
    with pytest.raises(RuntimeError, match='truncated'):
        load_checkpoint_safely(osp.join(out, f'iter_{N + 2}.pth'))


# ------------------------------------------------------------ issue 16, item 13
def test_failed_final_checkpoint_write_leaves_no_litter_and_is_fsynced(uninterrupted,
                                                                      monkeypatch):
    from mmengine.fileio.backends.local_backend import LocalBackend

    from spact_mm.engine.hooks import FinalCheckpointHook
    from spact_mm.utils import checkpoint as ckpt_utils

    work, _, runner = uninterrupted
    hook = FinalCheckpointHook(filename='final_test.pth')
    final = osp.join(work, 'final_test.pth')
    synced = []
    real = ckpt_utils.fsync_file
    monkeypatch.setattr(ckpt_utils, 'fsync_file', lambda p: (synced.append(p), real(p)))
    hook.after_train(runner)
    assert synced == [osp.join(work, '.final_test.pth.tmp')]  # flushed before the rename
    before = sha(final)
    monkeypatch.setattr(LocalBackend, 'put', half_then_fail)
    with pytest.raises(OSError, match='No space left'):
        hook.after_train(runner)
    monkeypatch.undo()
    assert sha(final) == before
    assert not osp.exists(osp.join(work, '.final_test.pth.tmp'))


def test_last_checkpoint_has_a_fixed_temporary_name_and_the_usual_mode(tmp_path):
    from spact_mm.utils import atomic_write_bytes

    target = str(tmp_path / 'last_checkpoint')
    stale = tmp_path / '.last_checkpoint.tmp'  # what a kill mid-write leaves
    stale.write_bytes(b'half')
    atomic_write_bytes(b'/x/iter_2.pth', target)
    assert sorted(os.listdir(tmp_path)) == ['last_checkpoint']  # the stale file is replaced
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(target).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_empty_last_checkpoint_names_the_problem(uninterrupted, tmp_path, tiny_data):
    import shutil

    work = str(tmp_path / 'empty_last')
    shutil.copytree(uninterrupted[0], work)
    open(osp.join(work, 'last_checkpoint'), 'w').close()
    cfg = minimax_cfg(work, tiny_data, N, osp.join(work, 'r.jsonl'))
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FileNotFoundError, match='`last_checkpoint` file, that file is empty'):
        runner.train()
