"""Arrows point down: ``spact_mm.datasets`` never imports ``spact_mm.models``
(shared pieces such as the box obfuscation live below both, in ``spact_mm.structures``)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _absolute_imports(path: Path):
    """Every module an import statement of ``path`` names, relative ones resolved."""
    package = list(path.relative_to(ROOT).with_suffix('').parts)[:-1]
    if path.name == '__init__.py':
        package = list(path.relative_to(ROOT).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = '.'.join(base + ([node.module] if node.module else []))
            yield module
            if not node.module:  # ``from .. import models``
                yield from (f'{module}.{alias.name}' for alias in node.names)


def _models_imports(path: Path):
    return [m for m in _absolute_imports(path)
            if m == 'spact_mm.models' or m.startswith('spact_mm.models.')]


def test_datasets_do_not_import_models():
    files = sorted((ROOT / 'spact_mm' / 'datasets').rglob('*.py'))
    assert any(p.parent.name == 'transforms' for p in files)
    offenders = {str(p.relative_to(ROOT)): _models_imports(p) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_resolves_relative_and_lazy_imports(tmp_path, monkeypatch):
    pkg = ROOT / 'spact_mm' / 'datasets' / 'transforms'
    fake = tmp_path / 'spact_mm' / 'datasets' / 'transforms'
    fake.mkdir(parents=True)
    src = fake / 'm.py'
    src.write_text('from ...models.anonymizers import x\n'
                   'def f():\n    from ... import models\n    import spact_mm.models.heads\n'
                   'from ..paired_dataset import y\n')
    monkeypatch.setattr(f'{__name__}.ROOT', tmp_path)
    assert _models_imports(src) == ['spact_mm.models.anonymizers', 'spact_mm.models',
                                    'spact_mm.models.heads']
    assert pkg.is_dir()  # the real package the first test walks
