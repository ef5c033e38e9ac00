"""tools/train.py without the data: one line naming the file and the data README, before
mmengine's environment and config dump."""
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from spact_mm.apis.train import MissingDataError, check_data_files

ROOT = Path(__file__).resolve().parents[2]
STAGE1 = ROOT / 'configs/spact/spact-stage1_unet-tiny_200iter_synthetic-a.py'


def test_cli_names_the_missing_file_and_readme_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / 'tools/train.py'), str(STAGE1),
                           '--work-dir', str(tmp_path / 'work')], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if line.startswith('error:')]
    assert len(lines) == 1
    assert 'data/synthetic/annotations/actions_a_train.txt' in lines[0]
    assert 'tools/data/synthetic/README.md' in lines[0]
    assert (ROOT / 'tools/data/synthetic/README.md').is_file()
    assert 'Environment' not in proc.stdout + proc.stderr  # no dump before it
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'work').exists()  # nothing started


def test_nested_datasets_and_data_root(tmp_path):
    """ann_file is joined with its own dataset's data_root (mmengine), wrappers are walked,
    and val is checked only when validation runs."""
    (tmp_path / 'root').mkdir()
    (tmp_path / 'root' / 'ok.txt').write_text('')
    present = dict(type='X', data_root=str(tmp_path / 'root'), ann_file='ok.txt')
    missing = dict(type='X', ann_file=str(tmp_path / 'gone.json'))
    cfg = Config(dict(train_dataloader=dict(dataset=dict(type='Pair', action=present,
                                                         privacy=missing)),
                      val_dataloader=dict(dataset=dict(datasets=[present, missing])),
                      val_cfg=None))
    with pytest.raises(MissingDataError, match=r'gone\.json.*train_dataloader\.dataset\.privacy'):
        check_data_files(cfg)
    cfg.train_dataloader.dataset.privacy = present
    check_data_files(cfg)  # val_cfg None: the val loader is not read
    cfg.val_cfg = dict(type='ValLoop')
    with pytest.raises(MissingDataError, match=r'val_dataloader\.dataset\.datasets\.1'):
        check_data_files(cfg)
