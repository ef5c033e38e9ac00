"""Every config is plain inherited dicts: no imports, functions or calls beyond dict()/list()."""
import ast
import re
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALL_CONFIGS = sorted((ROOT / 'configs').rglob('*.py'))
#: mmengine's base-variable references, ``{{_base_.x}}`` and ``{{ fileDirname }}``.
_REFERENCE = re.compile(r'\{\{\s*[\w.]+\s*\}\}')
_ALLOWED_CALLS = ('dict', 'list')
_STATEMENTS = (ast.Assign, ast.AnnAssign)


def python_work(source: str) -> List[str]:
    """What in a config's ``source`` is Python work rather than data, one line each."""
    tree = ast.parse(_REFERENCE.sub('_base_ref', source))
    found = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        if not isinstance(stmt, _STATEMENTS):
            found.append(f'line {stmt.lineno}: {type(stmt).__name__} statement')
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in _ALLOWED_CALLS:
                found.append(f'line {node.lineno}: call of {ast.unparse(node.func)}')
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.DictComp, ast.SetComp,
                               ast.GeneratorExp, ast.IfExp, ast.NamedExpr)):
            found.append(f'line {node.lineno}: {type(node).__name__}')
    return found


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: str(p.relative_to(ROOT / 'configs')))
def test_config_is_plain_data(path):
    assert python_work(path.read_text()) == [], path


def test_the_check_flags_python_work():
    """The forms configs used before (a loader function, Config.fromfile, a comprehension,
    len()) are flagged; mmengine's reference forms and plain arithmetic are not."""
    old = ("from mmengine import Config\n"
           "def __load(name):\n    return Config.fromfile(name)\n"
           "x = [dict(t, a=1) for t in y]\n"
           "n = len(attrs)\n")
    found = python_work(old)
    assert sorted(f.split(': ')[1] for f in found) == [
        'FunctionDef statement', 'ImportFrom statement', 'ListComp', 'call of Config.fromfile',
        'call of len']
    plain = ("_base_ = ['../a.py']\nth = 0.03\np = 10**9\n"
             "m = dict(backbone={{_base_.model.backbone}}, d=f'{th}/x', l=list())\n")
    assert python_work(plain) == []


def test_every_config_reads_ucf101_in_the_documented_layout():
    """tools/data/ucf101/README.md documents one layout (the official split files under
    data/ucf101): every training and protocol config that reads UCF101 uses it."""
    from mmengine.config import Config

    from spact_mm.evaluation.protocol import load_protocol_config

    def datasets(node):
        if isinstance(node, dict):
            where = str(node.get('data_root', '')) + str(node.get('ann_file', ''))
            if 'type' in node and 'ucf101' in where:  # a dataset config
                yield node
            for value in node.values():
                yield from datasets(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                yield from datasets(value)

    found = 0
    for path in ALL_CONFIGS:
        if '_base_' in path.parts:
            continue
        cfg = (load_protocol_config if 'protocols' in path.parts else Config.fromfile)(str(path))
        for ds in datasets(cfg.to_dict()):
            found += 1
            assert ds['type'] == 'UCF101Dataset' and ds['data_root'] == 'data/ucf101', path
            assert ds['class_index_file'] == 'annotations/classInd.txt', path
            assert ds['ann_file'] in ('annotations/trainlist01.txt',
                                      'annotations/testlist01.txt'), path
    assert found >= 9  # 3 stages x 3 splits, at least


def test_restated_privacy_datasets_equal_their_sources():
    """The supervised cross-dataset configs restate one privacy dataset (plain dicts cannot
    inherit two bases that define train_dataloader); they must equal the source's."""
    from mmengine.config import Config

    from spact_mm.evaluation.protocol import load_protocol_config

    sup = ROOT / 'configs/supervised'
    paper = Config.fromfile(str(sup / 'supervised-wu_unet-r3d18-r50_minimax-adam-100e_ucf101-'
                                      'vispr1-16x112x112.py'))
    protocol = load_protocol_config(str(ROOT / 'configs/protocols/protocol-cross_r3d18_r50_'
                                                'adam-30e_ucf101-vispr1.py'))
    assert paper.train_dataloader.dataset.privacy == protocol.privacy.train_dataloader.dataset
    demo = Config.fromfile(str(sup / 'supervised-wu_unet-tiny-r3d18-r18_minimax-150iter_'
                                     'synthetic-a-images-person.py'))
    source = Config.fromfile(str(ROOT / 'configs/_base_/protocols/synthetic_r3d18-tiny_r18-'
                                        'tiny_200iter.py')).privacy.train_dataloader.dataset
    source.pipeline[0] = dict(type='LoadPrivacyImage', channel_order='rgb')  # f_A sees RGB
    assert demo.train_dataloader.dataset.privacy == source
    actions = Config.fromfile(str(ROOT / 'configs/_base_/datasets/synthetic_actions_a_8x32x32.py'))
    assert demo.train_dataloader.dataset.action == actions.train_dataloader.dataset
    assert demo.val_dataloader.dataset == actions.val_dataloader.dataset
