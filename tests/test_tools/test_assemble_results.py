"""tools/analysis_tools/assemble_results.py rebuilds docs/results.md's audit section."""
import shutil
from pathlib import Path

from conftest import load_tool

REPO = Path(__file__).resolve().parents[2]


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / 'repo'
    (root / 'tools').mkdir(parents=True)
    shutil.copytree(REPO / 'tools' / 'analysis_tools', root / 'tools' / 'analysis_tools')
    src = root / 'docs' / 'results' / 'src'
    src.mkdir(parents=True)
    (src / 'audit_intro.md').write_text('# Results\n\nINTRO\n')
    (src / 'audit_narrative.md').write_text('NARRATIVE\n')
    (root / 'docs' / 'results.md').write_text(
        '# old\n<!-- AUDIT TABLES -->\nstale table\n<!-- /AUDIT TABLES -->\n\n## Kept section\n')
    return root


def test_section_is_rebuilt_from_its_parts_and_the_rest_is_kept(tmp_path, monkeypatch):
    root = _tree(tmp_path)
    work = tmp_path / 'work' / 'same' / 'seed0'
    for method in ('raw', 'motion-only'):
        shutil.copytree(REPO / f'docs/results/audit/same/seed0/{method}', work / method)
    tool = load_tool('analysis_tools/assemble_results.py')
    monkeypatch.setattr(tool, 'ROOT', str(root))
    assert tool.main(['--work-audit', str(tmp_path / 'work')]) == 0
    text = (root / 'docs' / 'results.md').read_text()
    assert text.startswith('# Results\n\nINTRO\n')
    assert 'stale table' not in text and '# old' not in text
    assert text.index('| motion-only |') < text.index('NARRATIVE') < text.index('## Kept section')
    assert (root / 'docs/results/audit/same/seed0/motion-only/audit.json').is_file()


def test_a_results_file_without_the_end_marker_is_refused(tmp_path, monkeypatch, capsys):
    root = _tree(tmp_path)
    (root / 'docs' / 'results.md').write_text('# no markers\n')
    shutil.copytree(REPO / 'docs/results/audit/same/seed0/raw',
                    root / 'docs/results/audit/same/seed0/raw')
    tool = load_tool('analysis_tools/assemble_results.py')
    monkeypatch.setattr(tool, 'ROOT', str(root))
    assert tool.main([]) == 1
    assert 'no <!-- /AUDIT TABLES --> marker' in capsys.readouterr().err
    assert (root / 'docs' / 'results.md').read_text() == '# no markers\n'
