"""tools/slurm_train.sh and slurm_test.sh with a stub ``srun`` that records its arguments;
the recorded train.py/test.py arguments are then parsed by our own parsers."""
import os
import subprocess
from pathlib import Path

import pytest
from conftest import load_tool

parse_train_args = load_tool('train.py').parse_args
parse_test_args = load_tool('test.py').parse_args

ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/spact/spact-stage1_unet-tiny_200iter_synthetic-a.py'


def _run_with_stub_srun(tmp_path, script, *args, **env_extra):
    """Run ``bash tools/<script> ...`` with ``srun`` on PATH replaced by a recorder."""
    bindir = tmp_path / 'bin'
    bindir.mkdir(exist_ok=True)
    record = tmp_path / 'srun_args'
    stub = bindir / 'srun'
    stub.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {record}\n')
    stub.chmod(0o755)
    env = dict(os.environ, PATH=f'{bindir}:{os.environ["PATH"]}', **env_extra)
    proc = subprocess.run(['bash', f'tools/{script}', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return record.read_text().splitlines()


def _split(argv, script_name):
    """srun's own options, and the arguments of the python script it starts."""
    i = argv.index('python')
    assert argv[i + 1] == '-u' and argv[i + 2].endswith(f'tools/{script_name}')
    return argv[:i], argv[i + 3:]


def test_slurm_train_passes_work_dir_and_extra_args_to_train_py(tmp_path):
    argv = _run_with_stub_srun(tmp_path, 'slurm_train.sh', 'gpu-part', 'spact-job', CONFIG,
                               '--work-dir', 'work_dirs/x', '--seed', '3', GPUS='4',
                               GPUS_PER_NODE='2', CPUS_PER_TASK='3')
    srun, train = _split(argv, 'train.py')
    assert srun == ['-p', 'gpu-part', '--job-name=spact-job', '--gres=gpu:2', '--ntasks=4',
                    '--ntasks-per-node=2', '--cpus-per-task=3', '--kill-on-bad-exit=1']
    args = parse_train_args(train)
    assert (args.config, args.launcher, args.work_dir, args.seed) == (
        CONFIG, 'slurm', 'work_dirs/x', 3)


def test_slurm_train_positional_work_dir_is_rejected_by_train_py(tmp_path):
    """The old documented form (``... CONFIG WORK_DIR``) reaches train.py as an extra
    positional, which argparse refuses: hence the documented ``--work-dir``."""
    argv = _run_with_stub_srun(tmp_path, 'slurm_train.sh', 'p', 'j', CONFIG, 'work_dirs/x')
    _, train = _split(argv, 'train.py')
    with pytest.raises(SystemExit):
        parse_train_args(train)


def test_slurm_test_passes_checkpoint_and_extra_args(tmp_path):
    argv = _run_with_stub_srun(tmp_path, 'slurm_test.sh', 'p', 'j', CONFIG, 'final.pth',
                               '--work-dir', 'work_dirs/t')
    srun, test = _split(argv, 'test.py')
    assert srun[:2] == ['-p', 'p'] and '--ntasks=8' in srun  # mmaction2's default GPUS=8
    args = parse_test_args(test)
    assert (args.config, args.checkpoint, args.launcher, args.work_dir) == (
        CONFIG, 'final.pth', 'slurm', 'work_dirs/t')
