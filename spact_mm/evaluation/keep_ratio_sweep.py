"""STPrivacy's deploy-time trade-off: privacy audits at several ``keep_ratio`` values.

The audits are made by ``tools/privacy_audit.py`` with one trained STPrivacy f_A and
``--cfg-options anonymizer.keep_ratio=r`` (method names ``keep-<r>``); this module reads
the figures that matter for the trade-off out of them and plots them against ``r``.
"""
import copy
import re
from typing import Dict, List, Optional, Sequence

_RATIO = re.compile(r'keep-([0-9.]+)$')


def sweep_rows(audits: Sequence[dict], raw: Optional[dict] = None) -> List[Dict[str, float]]:
    """One row per audit, sorted by keep ratio: fresh action top-1 and worst-case cMAP per
    privacy group, with the raw figures and the drop in %.

    Args:
        audits: ``audit.json`` contents whose ``method`` ends in ``keep-<r>``.
        raw: The raw audit of the same protocol and mode, if the audits were made
            without ``--raw-audit`` (attached with
            :func:`~spact_mm.evaluation.privacy_audit.attach_raw`).

    Raises:
        ValueError: A method name without a keep ratio, a ratio twice, or a raw audit
            of another protocol.
    """
    if raw is not None:
        from spact_mm.evaluation.privacy_audit import attach_raw

        audits = [attach_raw(copy.deepcopy(a), raw) for a in audits]
    rows = []
    for a in audits:
        match = _RATIO.search(str(a.get('method', '')))
        if match is None:
            raise ValueError(f'audit of method {a.get("method")!r} has no keep-<ratio> name')
        row = dict(keep_ratio=float(match.group(1)), action_top1=a['action']['top1'],
                   raw_action_top1=a['raw_action']['action_top1'], mode=a['mode'])
        for group, wc in a['worst_case'].items():
            row[f'{group}_cmap'] = wc['cmap']
            row[f'raw_{group}_cmap'] = a['raw_worst_case'][group]
            row[f'{group}_drop_pct'] = a['drop_pct'][group]
        rows.append(row)
    ratios = [r['keep_ratio'] for r in rows]
    if len(set(ratios)) != len(ratios):
        raise ValueError(f'keep ratios audited twice: {sorted(ratios)}')
    return sorted(rows, key=lambda r: r['keep_ratio'])


def plot_sweep(rows: Sequence[Dict[str, float]], out: str) -> None:
    """Action top-1 and worst-case privacy cMAP against keep_ratio (raw levels dashed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    x = [r['keep_ratio'] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    series = [('action_top1', 'action top-1 (fresh f\'_T)', 'tab:green')]
    groups = sorted(k[:-len('_cmap')] for k in rows[0] if k.endswith('_cmap')
                    and not k.startswith('raw_'))
    colours = ['tab:red', 'tab:blue', 'tab:purple']
    series += [(f'{g}_cmap', f'{g} worst-case cMAP', colours[i % 3]) for i, g in enumerate(groups)]
    for key, label, colour in series:
        ax.plot(x, [r[key] for r in rows], 'o-', color=colour, label=label)
        ax.axhline(rows[0][f'raw_{key}'], color=colour, ls='--', lw=0.8)
    ax.set_xlabel('keep_ratio (tubelets kept per frame, set at test time)')
    ax.set_ylabel('%')
    ax.set_title(f'STPrivacy demo: keep_ratio trade-off ({rows[0]["mode"]} audit; dashed: raw)',
                 fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
