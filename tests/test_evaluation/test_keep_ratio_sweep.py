"""The keep_ratio sweep table and plot of STPrivacy (spact_mm.evaluation.keep_ratio_sweep)."""
import json

import pytest
from conftest import load_tool

from spact_mm.evaluation.keep_ratio_sweep import sweep_rows


def audit(method: str, action: float, person: float) -> dict:
    """The fields of an audit.json that the sweep reads (names as privacy_audit writes)."""
    return dict(method=method, mode='quick', action=dict(top1=action),
                raw_action=dict(action_top1=80.0),
                worst_case=dict(person=dict(cmap=person), scene=dict(cmap=person + 5)),
                raw_worst_case=dict(person=90.0, scene=99.0),
                drop_pct=dict(person=(90 - person) / 0.9, scene=0.0))


def test_rows_sorted_by_ratio_with_the_audits_figures():
    rows = sweep_rows([audit('stprivacy-keep-0.7', 70., 80.),
                       audit('stprivacy-keep-0.3', 40., 60.)])
    assert [r['keep_ratio'] for r in rows] == [0.3, 0.7]
    assert rows[0]['action_top1'] == 40. and rows[0]['person_cmap'] == 60.
    assert rows[0]['scene_cmap'] == 65. and rows[1]['raw_person_cmap'] == 90.


def test_bad_sweeps_are_refused():
    with pytest.raises(ValueError, match='keep-<ratio>'):
        sweep_rows([audit('stprivacy', 1., 1.)])
    with pytest.raises(ValueError, match='twice'):
        sweep_rows([audit('a-keep-0.5', 1., 1.), audit('b-keep-0.5', 2., 2.)])


def test_tool_writes_json_and_png(tmp_path):
    paths = []
    for r in ('0.5', '1.0'):
        p = tmp_path / f'{r}.json'
        p.write_text(json.dumps(audit(f'stprivacy-keep-{r}', 50., 70.)))
        paths.append(str(p))
    main = load_tool('analysis_tools/stprivacy_keep_ratio.py').main
    assert main([*paths, '--out', str(tmp_path / 'out/sweep')]) == 0
    assert len(json.loads((tmp_path / 'out/sweep.json').read_text())) == 2
    assert (tmp_path / 'out/sweep.png').read_bytes()[:4] == b'\x89PNG'


def test_raw_figures_from_a_separate_raw_audit():
    bare = {k: v for k, v in audit('stprivacy-keep-0.5', 40., 45.).items()
            if k not in ('raw_action', 'raw_worst_case', 'drop_pct')}
    bare['protocol'] = 'same-dataset'
    raw = dict(protocol='same-dataset', action=dict(top1=80.),
               worst_case=dict(person=dict(cmap=90.), scene=dict(cmap=100.)), attackers={})
    row, = sweep_rows([bare], raw)
    assert row['raw_person_cmap'] == 90. and row['person_drop_pct'] == pytest.approx(50.)
    assert row['raw_action_top1'] == 80.
    with pytest.raises(ValueError, match='protocol'):
        sweep_rows([bare], dict(raw, protocol='novel'))
