"""Every tool's ``--help``: no mmcv-lite ``MultiScaleDeformableAttention`` warning, and the
defaults are shown. One interpreter runs them all (as fresh ``__main__`` scripts)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Modules of tools/ that CLIs beside them import; not scripts themselves.
MODULES = ['tools/analysis_tools/anonymizer_benchmark.py',
           'tools/analysis_tools/minimax_benchmark.py']
TOOLS = sorted(str(p.relative_to(ROOT)) for p in [*ROOT.glob('tools/*.py'),
                                                   *ROOT.glob('tools/analysis_tools/*.py'),
                                                   *ROOT.glob('tools/data/*/*.py')]
               if str(p.relative_to(ROOT)) not in MODULES)
RUNNER = r'''
import contextlib, io, runpy, sys
for tool in sys.argv[1:]:
    sys.argv = [tool, '--help']
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(tool, run_name='__main__')
        except SystemExit as e:
            assert e.code in (0, None), (tool, e.code)
    print(f'=== {tool}')
    print(out.getvalue())
'''


def test_every_tool_help_shows_defaults_without_the_mmcv_warning():
    proc = subprocess.run([sys.executable, '-c', RUNNER, *TOOLS], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'MultiScaleDeformableAttention' not in proc.stdout + proc.stderr
    helps = dict(part.split('\n', 1) for part in proc.stdout.split('=== ')[1:])
    assert sorted(helps) == TOOLS
    for tool, text in helps.items():
        assert 'usage:' in text, tool
        if '--' in text.split('options:')[-1].replace('--help', ''):  # has options
            assert '(default:' in text, tool
    # one name for f_A's config across the tools (--config kept as an alias)
    for tool in ('tools/anonymize_video.py', 'tools/analysis_tools/visualize_anonymizer.py',
                 'tools/deploy_anonymizer.py'):
        assert '--anonymizer-config' in helps[tool], tool


def test_tool_modules_are_modules():
    """The modules left out above exist and are no scripts (no ``__main__`` block)."""
    for module in MODULES:
        assert "__name__ == '__main__'" not in (ROOT / module).read_text(), module
