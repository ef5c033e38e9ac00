"""onnx / onnxscript / onnxruntime (and oneDNN for the torch backend's onednn option) are an
optional extra: in setup.py's ``deploy`` extra and
requirements/deploy.txt (pinned), never in the default install nor requirements.txt.
requirements/deploy.txt may repeat a constraint of the default install (numpy<2), word for word."""
import ast
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = {'onnx', 'onnxscript', 'onnxruntime', 'onednn-cpu-gomp', 'onednn-devel-cpu-gomp'}


def setup_kwargs() -> dict:
    """setup()'s literal keyword arguments, from setup.py's syntax tree (not run)."""
    for node in ast.walk(ast.parse((ROOT / 'setup.py').read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'setup':
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords
                    if kw.arg in ('install_requires', 'extras_require')}
    raise AssertionError('setup.py has no setup() call')


def names(lines) -> set:
    return {Requirement(line.split('#')[0].strip()).name for line in lines
            if line.split('#')[0].strip()}


def test_onnx_is_optional_and_pinned_apart():
    kwargs = setup_kwargs()
    assert not names(kwargs['install_requires']) & DEPLOY
    assert names(kwargs['extras_require']['deploy']) == DEPLOY
    assert not names((ROOT / 'requirements.txt').read_text().splitlines()) & DEPLOY
    pinned = [Requirement(line) for line in (ROOT / 'requirements/deploy.txt').read_text()
              .splitlines() if line.strip() and not line.startswith('#')]
    assert {r.name for r in pinned if r.name in DEPLOY} == DEPLOY
    assert all(len(r.specifier) == 1 and str(r.specifier).startswith('==')
               for r in pinned if r.name in DEPLOY)
    # anything else is a constraint the default install already has, so pip cannot move it
    default = {Requirement(line).name: str(Requirement(line).specifier)
               for line in kwargs['install_requires']}
    others = [r for r in pinned if r.name not in DEPLOY]
    assert all(default.get(r.name) == str(r.specifier) for r in others), others
    assert 'numpy' in {r.name for r in others}


def test_spact_mm_imports_without_the_extra():
    import subprocess
    import sys
    code = ("import sys\nfor n in ('onnx', 'onnxscript', 'onnxruntime'): sys.modules[n] = None\n"
            "import runpy, spact_mm.apis, spact_mm.apis.backends\n"
            "runpy.run_path('tools/analysis_tools/anonymizer_benchmark.py')\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith('ok'), proc.stderr[-2000:]
