"""FinalCheckpointHook (the stage hand-over file) and ProgressBarHook, tested directly."""
import os
from types import SimpleNamespace

import pytest
import torch

from spact_mm.engine import FinalCheckpointHook
from spact_mm.engine.hooks import ProgressBarHook


def fake_runner(work_dir, save):
    """A runner whose ``save_checkpoint(dir, name, ...)`` calls ``save(path)``."""
    def save_checkpoint(out_dir, filename, save_optimizer=True, save_param_scheduler=True):
        assert not save_optimizer and not save_param_scheduler  # weights and meta only
        save(os.path.join(out_dir, filename))

    return SimpleNamespace(work_dir=str(work_dir), save_checkpoint=save_checkpoint,
                           logger=SimpleNamespace(info=lambda *a, **k: None))


def test_final_checkpoint_is_written_under_its_fixed_name(tmp_path):
    state = {'state_dict': {'w': torch.arange(3.)}}
    FinalCheckpointHook().after_train(fake_runner(tmp_path, lambda p: torch.save(state, p)))
    assert sorted(os.listdir(tmp_path)) == ['final.pth']  # no temporary file left
    assert torch.equal(torch.load(tmp_path / 'final.pth')['state_dict']['w'], torch.arange(3.))
    FinalCheckpointHook('stage.pth').after_train(
        fake_runner(tmp_path, lambda p: torch.save(state, p)))
    assert sorted(os.listdir(tmp_path)) == ['final.pth', 'stage.pth']


def test_a_failed_write_keeps_the_previous_final_checkpoint(tmp_path):
    (tmp_path / 'final.pth').write_bytes(b'previous stage result')

    def crash(path):
        with open(path, 'wb') as f:
            f.write(b'half a chec')  # a partial file, then the write fails
        raise OSError('disk full')

    with pytest.raises(OSError, match='disk full'):
        FinalCheckpointHook().after_train(fake_runner(tmp_path, crash))
    assert sorted(os.listdir(tmp_path)) == ['final.pth']
    assert (tmp_path / 'final.pth').read_bytes() == b'previous stage result'


def test_progress_bar_counts_from_the_resumed_iteration_and_shows_the_loss(capsys):
    runner = SimpleNamespace(max_iters=5, iter=2)
    hook = ProgressBarHook(desc='f_T on f_A(train)')
    hook.before_train(runner)
    for loss in (0.9, 0.7, 0.5):
        hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(loss)))
    hook.after_train(runner)
    err = capsys.readouterr().err
    assert 'f_T on f_A(train)' in err and '5/5' in err and 'loss=0.500' in err
    assert '6/5' not in err and hook._bar is None
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.)))  # closed: no-op
    assert capsys.readouterr().err == ''
