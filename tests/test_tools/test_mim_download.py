"""``mim download spact_mm`` with no published weights (issue 15).

openmim 0.3.9 (``mim/commands/download.py``) asks its model table for the
``weight`` column of every entry. Without ``Weights`` on any entry it stops with
``ValueError: Expected fields ... but got {'weight'}`` before it writes or
downloads anything. With ``Weights`` on some entries only, the others crash
(``'float' object has no attribute 'split'``). So the metafiles have it on
every entry or none, and say which in ``model-index.yml``.
"""
import os
import subprocess
import sys
from pathlib import Path

import modelindex
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _models():
    return modelindex.load(str(ROOT / 'model-index.yml')).models


def test_weights_on_every_entry_or_none_and_the_index_says_which():
    models = _models()
    with_weights = [m.name for m in models if getattr(m, 'weights', None)]
    assert with_weights in ([], [m.name for m in models]), \
        f'Weights on some entries only (mim download crashes on the others): {with_weights}'
    if not with_weights:
        index = (ROOT / 'model-index.yml').read_text()
        assert 'No trained weights are published' in index
        assert '`mim download spact_mm --config NAME` cannot fetch anything' in index
        for path in yaml.safe_load(index)['Import']:
            assert 'mim download spact_mm` cannot fetch anything' in (ROOT / path).read_text()


def test_mim_download_stops_before_writing_or_downloading(tmp_path):
    """Run away from the repo, through the installed package, as a user would."""
    models = _models()
    if any(getattr(m, 'weights', None) for m in models):
        return  # weights are published: the download itself is then what to test
    dest = tmp_path / 'dest'
    proc = subprocess.run(
        [sys.executable, '-m', 'mim', 'download', 'spact_mm', '--config', models[0].name,
         '--dest', str(dest)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    assert "but got {'weight'}" in proc.stderr.strip().splitlines()[-1]
    assert not dest.exists() or os.listdir(dest) == []  # no partial file, no config dump
