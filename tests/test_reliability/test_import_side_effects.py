"""``import spact_mm`` only registers; safe checkpoint loading is an explicit step.

Each check runs in a fresh Python process, since the state in question
(torch's allow-list, mmengine's checkpoint loaders, ``HistoryBuffer``) is
process-wide and this test process has already enabled safe loading.
"""
import json
import os.path as osp
import pickle
import subprocess
import sys
import textwrap

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAGE3 = osp.join(ROOT, 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_'
                  'synthetic-a.py')

#: Prints the loader state of the process as JSON (run after the step under test).
STATE = textwrap.dedent('''
    import json
    import torch
    from mmengine.logging import HistoryBuffer
    from mmengine.runner import checkpoint as mm_ckpt
    print(json.dumps(dict(
        local=mm_ckpt.CheckpointLoader._schemes[''].__module__,
        http=mm_ckpt.CheckpointLoader._schemes['http://'].__module__,
        load_from_local=mm_ckpt.load_from_local.__module__,
        getstate=getattr(HistoryBuffer.__getstate__, '__module__', None),
        allow_listed=HistoryBuffer in torch.serialization.get_safe_globals())))
''')


def state_after(step: str) -> dict:
    code = step + '\n' + STATE
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


SAFE = dict(local='spact_mm.utils.checkpoint', http='spact_mm.utils.checkpoint',
            load_from_local='spact_mm.utils.checkpoint', getstate='spact_mm.utils.checkpoint',
            allow_listed=True)


def test_import_spact_mm_leaves_mmengine_and_torch_unchanged():
    before = state_after('')
    assert before['local'] == 'mmengine.runner.checkpoint' and not before['allow_listed']
    assert state_after('import spact_mm') == before


def test_the_configs_custom_imports_enable_it_for_mmaction2s_tools():
    """mmaction2's tools/train.py, tools/test.py and init_recognizer read the config with
    ``Config.fromfile``, which imports ``custom_imports``."""
    step = f'from mmengine.config import Config\nConfig.fromfile({STAGE3!r})'
    assert state_after(step) == SAFE


def test_our_runner_builder_enables_it():
    step = textwrap.dedent('''
        from mmengine.config import Config
        from mmengine.runner import Runner
        from spact_mm.apis.train import build_runner
        Runner.from_cfg = staticmethod(lambda cfg: None)  # only the set-up is under test
        build_runner(Config(dict(default_scope='spact_mm')))
    ''')
    assert state_after(step) == SAFE


def test_a_crafted_checkpoint_is_refused_after_the_explicit_step(tmp_path):
    marker = tmp_path / 'code_ran'
    evil = tmp_path / 'evil.pth'

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    with open(evil, 'wb') as f:
        pickle.dump({'state_dict': {}, 'meta': Evil()}, f)
    code = textwrap.dedent(f'''
        import spact_mm.safe_loading
        from mmengine.runner.checkpoint import _load_checkpoint
        try:
            _load_checkpoint({str(evil)!r}, map_location='cpu')
        except RuntimeError as e:
            print('refused' if 'refusing to load' in str(e) else e)
    ''')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip().endswith('refused'), out.stderr[-3000:]
    assert not marker.exists()


@pytest.mark.parametrize('module', ['spact_mm.safe_loading'])
def test_default_runtime_lists_the_step(module):
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/default_runtime.py'))
    assert cfg.custom_imports['imports'][:2] == ['spact_mm', module]
