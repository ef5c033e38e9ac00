"""The benchmark modules of tools/analysis_tools find their configs where an installed
package keeps them (``spact_mm/.mim/configs``, through ``spact_mm.apis.demo.config_dir``),
not only in a checkout."""
import shutil
from pathlib import Path

import pytest
from conftest import load_tool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installed_configs(tmp_path, monkeypatch):
    """A copy of configs/ laid out as in a wheel, with the demo f_A made 5 channels wide,
    and a working directory without any configs/ folder."""
    mim = tmp_path / 'site-packages' / 'spact_mm' / '.mim'
    shutil.copytree(ROOT / 'configs', mim / 'configs')
    tiny = mim / 'configs/_base_/models/spact_tiny.py'
    text = tiny.read_text()
    assert "dict(type='UNetAnonymizer', base_channels=16" in text
    tiny.write_text(text.replace("dict(type='UNetAnonymizer', base_channels=16",
                                 "dict(type='UNetAnonymizer', base_channels=5"))
    elsewhere = tmp_path / 'cwd'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return mim / 'configs'


def test_anonymizer_benchmark_builds_named_configs_from_the_package(installed_configs,
                                                                    monkeypatch):
    bench = load_tool('analysis_tools/anonymizer_benchmark.py')
    monkeypatch.setattr(bench, 'config_dir', lambda: installed_configs)
    f_a = bench.build_anonymizer('demo')
    widths = {m.out_channels for m in f_a.modules() if hasattr(m, 'out_channels')}
    assert 5 in widths and 16 not in widths


def test_minimax_benchmark_reads_scales_from_the_package(installed_configs, monkeypatch):
    bench = load_tool('analysis_tools/minimax_benchmark.py')
    monkeypatch.setattr(bench, 'config_dir', lambda: installed_configs)
    cfg = bench.scale_model_cfg('demo')
    assert cfg['data_preprocessor']['anonymizer']['base_channels'] == 5
