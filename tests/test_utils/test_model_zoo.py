"""Model-zoo files: metafile.yml / model-index.yml, method READMEs, and the .mim packaging."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import modelindex
import yaml
from mmengine.config import Config
from mmengine.config.utils import _get_cfg_metainfo

ROOT = Path(__file__).resolve().parents[2]


def test_model_index_lists_every_spact_config():
    index = modelindex.load(str(ROOT / 'model-index.yml'))
    configs = {m.config for m in index.models}
    assert all((ROOT / c).is_file() for c in configs)
    spact = {f'configs/spact/{p.name}' for p in (ROOT / 'configs/spact').glob('spact-*.py')}
    assert spact and spact <= configs
    for coll in index.collections:
        assert (ROOT / coll.readme).is_file()
    # Every imported metafile is one of the method folders' metafiles, and vice versa.
    imports = set(yaml.safe_load((ROOT / 'model-index.yml').read_text())['Import'])
    assert imports == {str(p.relative_to(ROOT)) for p in (ROOT / 'configs').glob('*/metafile.yml')}


def test_method_readme_layout():
    text = (ROOT / 'configs/spact/README.md').read_text()
    for heading in ('## Abstract', '## Results and Models', '## Train', '## Test', '## Citation'):
        assert heading in text
    for cfg in (ROOT / 'configs/spact').glob('spact-*.py'):
        assert cfg.name in text, cfg.name


def test_wheel_packages_mim_folder(tmp_path):
    """``pip wheel`` (as ``pip install .`` builds) copies configs, tools and model-index.yml
    into spact_mm/.mim, where mmengine's ``spact_mm::`` lookup and mim read them."""
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'requirements.txt', 'model-index.yml'):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns('__pycache__', '.mim', '*.pyc')
    for name in ('spact_mm', 'configs', 'tools'):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    run = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                          '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist'), '.'],
                         cwd=src, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    wheel = next((tmp_path / 'dist').glob('spact_mm-*.whl'))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / 'site')
    for must in ('spact_mm/.mim/model-index.yml', 'spact_mm/.mim/configs/spact/metafile.yml',
                 'spact_mm/.mim/tools/anonymize_video.py', 'spact_mm/.mim/tools/train.py',
                 'spact_mm/.mim/configs/_base_/default_runtime.py'):
        assert must in names, must
    pkg = str(tmp_path / 'site' / 'spact_mm')
    name = 'spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
    meta = _get_cfg_metainfo(pkg, name)
    assert meta['Config'] == f'configs/{name}'
    cfg = Config.fromfile(str(Path(pkg) / '.mim' / meta['Config']))  # its _base_ resolve in .mim
    assert cfg.model.type == 'SPActRecognizer'
