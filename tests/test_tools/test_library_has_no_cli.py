"""``spact_mm/`` is library code: no module parses a command line (argparse lives in tools/)."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / 'spact_mm'


def _imported_modules(tree: ast.AST):
    """Every module an ``import`` or ``from ... import`` statement names, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _argparse_imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    return [m for m in _imported_modules(tree) if m.split('.')[0] == 'argparse']


def test_no_module_under_spact_mm_imports_argparse():
    files = sorted(PACKAGE.rglob('*.py'))
    assert len(files) > 20  # the walk found the package
    offenders = [str(p.relative_to(PACKAGE.parent)) for p in files if _argparse_imports(p)]
    assert offenders == [], f'argparse belongs in tools/, not in {offenders}'


def test_the_check_sees_a_function_level_import(tmp_path):
    src = tmp_path / 'm.py'
    src.write_text('def main():\n    import argparse.foo\n'
                   '    from argparse import ArgumentParser\n')
    assert _argparse_imports(src) == ['argparse.foo', 'argparse']


@pytest.mark.parametrize('name', ['parse_train_args', 'parse_test_args', 'anonymize_video_main',
                                  'visualize_anonymizer_main'])
def test_moved_cli_names_say_where_they_went(name):
    import spact_mm.apis

    with pytest.raises(AttributeError, match='tools/'):
        getattr(spact_mm.apis, name)
