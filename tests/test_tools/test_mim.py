"""openmim sees the README's editable install (tools/setup_env.sh): list, search, train."""
import os
import subprocess
import sys
from pathlib import Path

import modelindex
import pytest

from spact_mm.datasets.synthetic import generate_synthetic_dataset

ROOT = Path(__file__).resolve().parents[2]
MIM = [sys.executable, '-m', 'mim']
STAGE1 = 'spact-stage1_unet-tiny_200iter_synthetic-a.py'


def _mim(args, cwd, timeout=300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(MIM + args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_mim_list_and_search(tmp_path):
    """Run away from the repo, so that only the installed package can be found."""
    listed = _mim(['list'], tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert any(line.split()[:2] == ['spact-mm', '0.1.0'] for line in listed.stdout.splitlines())

    found = _mim(['search', 'spact_mm'], tmp_path)
    assert found.returncode == 0, found.stderr[-2000:]
    names = [m.name for m in modelindex.load(str(ROOT / 'model-index.yml')).models]
    assert names and all(name in found.stdout for name in names)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('mim') / 'synthetic'
    generate_synthetic_dataset(str(root), seed=0, videos_per_class=1, val_videos_per_class=1)
    return root


def test_mim_train_resolves_config_by_name_and_trains(tiny_data, tmp_path):
    """``mim train spact_mm <config name>``: the config through the package's ``configs``,
    our tools/train.py through the package, two iterations on CPU, ``final.pth`` written."""
    work = tmp_path / 'work'
    ann = f'{tiny_data}/annotations/actions_a_%s.txt'
    proc = _mim(['train', 'spact_mm', STAGE1, '--gpus', '0', '--work-dir', str(work),
                 '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                 'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
                 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                 'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
                 f'train_dataloader.dataset.ann_file={ann % "train"}',
                 f'train_dataloader.dataset.data_prefix.video={tiny_data}',
                 f'val_dataloader.dataset.ann_file={ann % "val"}',
                 f'val_dataloader.dataset.data_prefix.video={tiny_data}'], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f'will use {ROOT}/configs/spact/{STAGE1}' in out
    assert (work / 'final.pth').is_file()
