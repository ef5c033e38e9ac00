"""Install and CI scripts: the mmaction2 range, setup_env's pin override and the 1.2.0 files."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _setup_py_requires() -> list:
    """``install_requires`` of setup.py, read from its syntax tree (setup.py is not run)."""
    for node in ast.walk(ast.parse((ROOT / 'setup.py').read_text())):
        if isinstance(node, ast.keyword) and node.arg == 'install_requires':
            return [Requirement(ast.literal_eval(e)) for e in node.value.elts]
    raise AssertionError('setup.py has no install_requires')


def test_setup_py_accepts_mmaction2_1x_and_requirements_pin_1_1_0():
    mma = [r for r in _setup_py_requires() if r.name == 'mmaction2']
    assert len(mma) == 1
    spec = mma[0].specifier
    assert spec.contains('1.1.0') and spec.contains('1.2.0') and spec.contains('1.9.9')
    assert not spec.contains('1.0.0') and not spec.contains('2.0.0')
    pins = [Requirement(line.split('#')[0]) for line in
            (ROOT / 'requirements.txt').read_text().splitlines()
            if line.startswith('mmaction2')]
    assert [str(p.specifier) for p in pins] == ['==1.1.0']  # the README's default
    assert spec.contains('1.1.0')


def _fake_venv(tmp_path: Path) -> Path:
    """A venv whose ``bin/python`` only records its arguments and the -r files it gets."""
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    log = tmp_path / 'calls.log'
    stub = venv / 'bin' / 'python'
    site = tmp_path / 'site-packages'
    site.mkdir()
    stub.write_text('#!/usr/bin/env bash\n'
                    f'echo "CALL $*" >> {log}\n'
                    f'if [ "$1" = -c ]; then echo {site}; fi\n'
                    'while [ $# -gt 0 ]; do\n'
                    f'  if [ "$1" = -r ]; then cat "$2" >> {log}; fi\n'
                    '  shift\n'
                    'done\n')
    stub.chmod(0o755)
    return venv


@pytest.mark.parametrize('pin', ['', 'mmaction2==1.2.0'])
def test_setup_env_mmaction2_pin_override(tmp_path, pin):
    """SPACT_MMACTION2_PIN replaces requirements.txt's mmaction2 line (and only that), and
    the stamp records it, so that switching the pin reinstalls."""
    venv = _fake_venv(tmp_path)
    env = dict(os.environ, SPACT_VENV=str(venv), SPACT_MMACTION2_PIN=pin)
    env.pop('SPACT_TORCH_PINS', None)
    subprocess.run(['bash', str(ROOT / 'tools/setup_env.sh')], env=env, check=True,
                   capture_output=True, text=True)
    log = (tmp_path / 'calls.log').read_text().splitlines()
    req = [line for line in log if not line.startswith('CALL ')]
    mma = [line.split('#')[0].strip() for line in req if line.startswith('mmaction2')]
    assert mma == [pin or 'mmaction2==1.1.0']
    others = [line for line in (ROOT / 'requirements.txt').read_text().splitlines()
              if not line.startswith('mmaction2')]
    assert [line for line in req if not line.startswith('mmaction2')] == others
    assert any('-e' in line.split() for line in log if line.startswith('CALL '))
    stamp = (venv / '.spact_mm_stamp').read_text()
    assert stamp.strip().endswith(pin or 'torchvision==0.29.1')
    # the folder mim reads: links into the repo, no __init__.py (the package stays the repo's)
    mim_dir = tmp_path / 'site-packages' / 'spact_mm'
    for name in ('model-index.yml', 'configs', 'tools'):
        assert (mim_dir / name).is_symlink() and (mim_dir / name).resolve() == ROOT / name
    assert not (mim_dir / '__init__.py').exists()


def test_setup_env_leaves_a_real_install_alone(tmp_path):
    venv = _fake_venv(tmp_path)
    real = tmp_path / 'site-packages' / 'spact_mm'
    real.mkdir()
    (real / '__init__.py').write_text('')
    env = dict(os.environ, SPACT_VENV=str(venv))
    subprocess.run(['bash', str(ROOT / 'tools/setup_env.sh')], env=env, check=True,
                   capture_output=True)
    assert sorted(p.name for p in real.iterdir()) == ['__init__.py']


def _fake_mmaction(tmp_path: Path, version: str) -> Path:
    pkg = tmp_path / version / 'mmaction'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'version.py').write_text(f"__version__ = '{version}'\n")
    return pkg


def _add_drn(site: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / '.ci/add_mmaction2_drn.py'), *args],
                          env=dict(os.environ, PYTHONPATH=str(site)), capture_output=True,
                          text=True)


def test_add_drn_copies_upstream_files_into_1_2_0_only(tmp_path):
    vendor = ROOT / '.ci/vendor/mmaction2-v1.2.0-drn'
    assert 'Apache License' in (vendor / 'LICENSE').read_text()
    wanted = sorted(p.relative_to(vendor) for p in (vendor / 'mmaction').rglob('*.py'))
    assert Path('mmaction/models/localizers/drn/drn.py') in wanted

    pkg = _fake_mmaction(tmp_path, '1.2.0')
    done = _add_drn(pkg.parent)
    assert done.returncode == 0, done.stderr
    for rel in wanted:
        assert (pkg.parent / rel).read_bytes() == (vendor / rel).read_bytes()
    again = _add_drn(pkg.parent)  # idempotent
    assert again.returncode == 0 and '0 file(s)' in again.stdout

    (pkg / 'models' / 'localizers' / 'bmn.py').write_text('# not vendored\n')
    removed = _add_drn(pkg.parent, '--remove')
    assert removed.returncode == 0 and f'{len(wanted)} file(s) removed' in removed.stdout
    assert not (pkg / 'models' / 'localizers' / 'drn').exists()
    assert (pkg / 'models' / 'localizers' / 'bmn.py').exists()  # only the vendored files go

    old = _fake_mmaction(tmp_path, '1.1.0')
    refused = _add_drn(old.parent)
    assert refused.returncode == 1 and '1.1.0' in refused.stderr
    assert not (old / 'models').exists()


def test_ci_runs_the_readme_command_on_both_versions():
    text = (ROOT / '.ci/run').read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert lines.count('bash tools/run_tests.sh') == 1
    assert lines.count("SPACT_MMACTION2_PIN='mmaction2==1.2.0' bash tools/run_tests.sh") == 1
    assert "SPACT_MMACTION2_PIN='mmaction2==1.2.0' bash tools/setup_env.sh" in lines
    # run 2 reuses run 1's venv and swaps back to the README's stack after it
    assert '.ci/add_mmaction2_drn.py --remove' in text
    assert '.ci/add_mmaction2_drn.py' in text
