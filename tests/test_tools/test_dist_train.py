"""`tools/dist_train.sh CONFIG 2` trains SPAct with two processes on CPU (gloo)."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from spact_mm.datasets.synthetic import generate_synthetic_dataset

ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-ddp-150iter_synthetic-a.py'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_cpu_processes(tmp_path):
    data = tmp_path / 'synthetic'
    generate_synthetic_dataset(str(data), seed=0, videos_per_class=2, val_videos_per_class=1)
    work = tmp_path / 'work'
    env = dict(os.environ, PATH=f'{Path(sys.executable).parent}:{os.environ["PATH"]}',
               PORT=str(_free_port()), MASTER_ADDR='127.0.0.1', OMP_NUM_THREADS='1')
    cmd = [
        'bash', 'tools/dist_train.sh', CONFIG, '2', '--no-validate', '--work-dir', str(work),
        '--cfg-options', 'train_cfg.max_iters=2', 'model.init_cfg=None',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_dataloader.batch_size=4',
        f'train_dataloader.dataset.ann_file={data}/annotations/actions_a_train.txt',
        f'train_dataloader.dataset.data_prefix.video={data}'
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (work / 'iter_2.pth').is_file()
    final = torch.load(work / 'final.pth', weights_only=True)
    assert not list(work.glob('.*.tmp'))  # rank 0 renamed its temporary file; no rank failed
    ckpt = torch.load(work / 'iter_2.pth', weights_only=True)
    assert ckpt['optimizer']['minimax']['minimax_iter'] == 2
    key = next(k for k in final['state_dict'] if k.startswith('data_preprocessor.anonymizer.'))
    torch.testing.assert_close(final['state_dict'][key], ckpt['state_dict'][key])
