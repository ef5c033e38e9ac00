"""Tables 1/2 and the trade-off plot of Fig. 4 from protocol ``results.json`` files."""
import json
from typing import Dict, List, Optional, Sequence

import numpy as np

#: Row order of the tables (others follow, sorted).
METHOD_ORDER = ('raw', 'downsample-2x', 'downsample-4x', 'obf-blackening', 'obf-strongblur',
                'obf-weakblur', 'obf-blackening-oracle', 'obf-strongblur-oracle',
                'obf-weakblur-oracle', 'motion-only', 'bdq-fixed', 'bdq-entropy', 'bdq-ssl',
                'supervised', 'supervised-600', 'spact', 'spact-600')
PROTOCOL_ORDER = ('same-dataset', 'cross-dataset', 'novel')
#: (figure, column title, decimals)
COLUMNS = (('action_top1', 'Action top-1 (↑)', 1), ('action_cmap', 'Action cMAP (↑)', 1),
           ('privacy_cmap', 'Privacy cMAP (↓)', 1), ('privacy_f1', 'Privacy F1 (↓)', 3))


def load_results(paths: Sequence[str]) -> List[dict]:
    """Read ``results.json`` files."""
    out = []
    for p in paths:
        with open(p) as f:
            out.append(json.load(f))
    return out


def _order(values, order):
    known = [v for v in order if v in values]
    return known + sorted(v for v in values if v not in order)


def ordered_protocols(protocols) -> list:
    """Protocol names in table order: same-dataset, cross-dataset, novel, then any others."""
    return _order(set(protocols), PROTOCOL_ORDER)


def _key(method: str) -> str:
    return method.lower().replace('_', '-').replace(' ', '-')


def format_results_table(results: Sequence[dict]) -> str:
    """A markdown table in the layout of Tables 1/2: one row per method, for
    every protocol its figures, with the relative drop from raw data (↓%) next
    to the privacy figures (and the action figure, which the paper omits).
    """
    # A column group is one (protocol, dataset): e.g. the UCF101-VISPR1 and the
    # HMDB51-VISPR -> PA-HMDB runs are both 'cross-dataset' and must not merge.
    protocols = _order({r['protocol'] for r in results}, PROTOCOL_ORDER)
    groups = sorted({(r['protocol'], r.get('dataset')) for r in results},
                    key=lambda g: (protocols.index(g[0]), str(g[1])))
    by_method: Dict[str, Dict[tuple, dict]] = {}
    for r in results:
        by_method.setdefault(r['method'], {})[(r['protocol'], r.get('dataset'))] = r
    methods = sorted(by_method, key=lambda m: (
        METHOD_ORDER.index(_key(m)) if _key(m) in METHOD_ORDER else len(METHOD_ORDER), m))
    cols = []  # (group, figure, title, decimals)
    for g in groups:
        present = {k for r in results if (r['protocol'], r.get('dataset')) == g
                   for k in r['metrics']}
        cols += [(g, k, t, d) for k, t, d in COLUMNS if k in present]
    head = ['Method'] + [f"{p}{f' ({ds})' if ds else ''}: {t}" for (p, ds), _, t, _ in cols]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for m in methods:
        row = [m]
        for g, k, _, d in cols:
            r = by_method[m].get(g)
            if r is None or k not in r['metrics']:
                row.append('–')
                continue
            cell = f"{r['metrics'][k]:.{d}f}"
            drop = r.get('drops_pct', {}).get(k)
            if drop is not None and _key(m) != 'raw':
                cell += f' ↓{drop:.0f}%' if drop >= 0 else f' ↑{-drop:.0f}%'
            row.append(cell)
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def plot_tradeoff(results: Sequence[dict], out: str, privacy: str = 'privacy_cmap',
                  action: Optional[str] = None, title: Optional[str] = None) -> str:
    """Fig. 4: action performance against privacy leakage, one point per method.

    Up and to the left is better (high action accuracy, low privacy cMAP).

    Args:
        results: ``results.json`` contents of one protocol.
        out: PNG path.
        privacy: Privacy figure on the x axis (``privacy_cmap`` or ``privacy_f1``).
        action: Action figure on the y axis (default: top-1, else cMAP).
        title: Plot title.

    Returns:
        ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if action is None:
        action = 'action_top1' if any('action_top1' in r['metrics'] for r in results) \
            else 'action_cmap'
    pts = [(r['method'], r['metrics'][privacy], r['metrics'][action]) for r in results
           if privacy in r['metrics'] and action in r['metrics']]
    if not pts:
        raise ValueError(f'no result has both {privacy} and {action}')
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    xs, ys = [p[1] for p in pts], [p[2] for p in pts]
    span_x, span_y = max(max(xs) - min(xs), 1e-6), max(max(ys) - min(ys), 1e-6)
    placed: List[tuple] = []
    for name, x, y in pts:
        special = _key(name).split('-(')[0] in ('spact', 'supervised', 'raw')
        ax.scatter(x, y, s=70 if special else 40,
                   marker='*' if _key(name).startswith('spact') else 'o')
        # stack the labels of points that (nearly) coincide instead of overprinting them
        near = sum(abs(x - px) < 0.12 * span_x and abs(y - py) < 0.04 * span_y
                   for px, py in placed)
        placed.append((x, y))
        offset, align = [((5, 4), 'left'), ((5, -10), 'left'), ((-5, -10), 'right'),
                         ((-5, 4), 'right')][near % 4]
        ax.annotate(name, (x, y), textcoords='offset points', xytext=offset, ha=align,
                    fontsize=8)
    ax.set_xlabel({'privacy_cmap': 'privacy cMAP (%) ↓', 'privacy_f1': 'privacy F1 ↓'}.get(
        privacy, privacy))
    ax.set_ylabel({'action_top1': 'action top-1 (%) ↑', 'action_cmap': 'action cMAP (%) ↑'}.get(
        action, action))
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{results[0]['protocol']} ({results[0].get('dataset')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------
# Privacy audit tables (issue 11)
# ---------------------------------------------------------------------------
def _audit_methods(audits: Sequence[dict]) -> List[str]:
    methods = []
    for a in audits:
        if a['method'] not in methods:
            methods.append(a['method'])
    return sorted(methods, key=lambda m: (
        METHOD_ORDER.index(_key(m)) if _key(m) in METHOD_ORDER else len(METHOD_ORDER),
        methods.index(m)))


def _mean_std(values: Sequence[float], decimals: int = 1) -> str:
    if not values:
        return '–'
    if len(values) == 1:
        return f'{values[0]:.{decimals}f}'
    return f'{np.mean(values):.{decimals}f} ± {np.std(values):.{decimals}f}'


def _drop(audit: dict, key: str) -> Optional[float]:
    return audit.get('drop_pct', {}).get(key)


def format_audit_table(audits: Sequence[dict]) -> str:
    """One row per method, per protocol the audit's headline figures.

    Columns: worst-case person and scene cMAP (with the relative drop from
    raw), fresh f'_T action top-1, conv-inversion PSNR and person
    re-identification top-1 (learned embedding, anonymized / raw gallery).
    Several seeds of one (method, protocol) are shown as mean ± std.
    """
    protocols = _order({a['protocol'] for a in audits}, PROTOCOL_ORDER)
    cells = {}
    for a in audits:
        cells.setdefault((a['method'], a['protocol']), []).append(a)
    head = ['Method']
    for p in protocols:
        head += [f'{p}: person cMAP ↓', f'{p}: scene cMAP ↓', f'{p}: action top-1 ↑',
                 f'{p}: inversion PSNR', f'{p}: re-id top-1 (anon / raw gallery)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    caveat = False
    for m in _audit_methods(audits):
        row = [m]
        for p in protocols:
            group = cells.get((m, p), [])
            if not group:
                row += ['–'] * 5
                continue
            flag = ' †' if any(a.get('caveat') for a in group) else ''
            caveat = caveat or bool(flag)
            for g in ('person', 'scene'):
                vals = [a['worst_case'][g]['cmap'] for a in group if g in a['worst_case']]
                cell = _mean_std(vals)
                drops = [d for d in (_drop(a, g) for a in group) if d is not None]
                if drops and _key(m) != 'raw':
                    d = float(np.mean(drops))
                    cell += f' ↓{d:.0f}%' if d >= 0 else f' ↑{-d:.0f}%'
                row.append(cell + flag)
            row.append(_mean_std([a['action']['top1'] for a in group if a.get('action')]))
            row.append(_mean_std([a['inversion']['conv']['psnr'] for a in group
                                  if 'conv' in a.get('inversion', {})]))
            reid = [a['reid']['resnet18-identity'] for a in group
                    if 'resnet18-identity' in a.get('reid', {})]
            row.append(f"{_mean_std([r['anonymized_gallery']['top1'] for r in reid])} / "
                       f"{_mean_std([r['raw_gallery']['top1'] for r in reid])}" if reid else '–')
        lines.append('| ' + ' | '.join(row) + ' |')
    if caveat:
        lines += ['', '† a clip-level anonymizer audited on still images (one-frame clips): '
                  'these privacy figures say nothing about its output on videos.']
    return '\n'.join(lines) + '\n'


def format_attacker_table(audits: Sequence[dict], protocol: str) -> str:
    """Per method (one protocol), every attacker family's person / scene cMAP.

    Only the attribute groups the audits have are shown (the face benchmark's
    audits have no scene group); a cell the audits lack is ``–``.
    """
    sel = [a for a in audits if a['protocol'] == protocol]
    if not sel:
        raise ValueError(f'no audit of protocol {protocol!r}')
    groups = [g for g in ('person', 'scene') if any(g in a['worst_case'] for a in sel)]
    attackers = list(sel[0]['attackers'])
    head = ['Method'] + attackers + ['worst case']
    lines = [f"{' / '.join(groups).capitalize()} cMAP (%) of each fresh attacker, "
             f'{protocol} protocol.', '',
             '| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for m in _audit_methods(sel):
        group = [a for a in sel if a['method'] == m]
        row = [m]
        for name in attackers + ['worst case']:
            def picks(g, n=name, group=group):
                if n == 'worst case':
                    return [a['worst_case'][g]['cmap'] for a in group if g in a['worst_case']]
                return [a['attackers'][n]['cmap'][g] for a in group
                        if g in a['attackers'].get(n, {}).get('cmap', {})]
            row.append(' / '.join(f'{np.mean(v):.1f}' if (v := picks(g)) else '–'
                                  for g in groups))
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def mean_over_seeds(results: Sequence[dict]) -> List[dict]:
    """One result per (protocol, method): the mean of each metric over its seeds.

    A method with several seeds is labelled ``'method (k seeds)'``, so that a
    trade-off plot shows one point per method, not one per seed. Metrics that
    some seeds lack are averaged over the seeds that have them.
    """
    groups: Dict[tuple, List[dict]] = {}
    for r in results:
        groups.setdefault((r['protocol'], r['method']), []).append(r)
    out = []
    for (_, method), group in groups.items():
        keys = {k for r in group for k in r['metrics']}
        metrics = {k: float(np.mean([r['metrics'][k] for r in group if k in r['metrics']]))
                   for k in sorted(keys)}
        label = method if len(group) == 1 else f'{method} ({len(group)} seeds)'
        out.append(dict(group[0], method=label, metrics=metrics))
    return out


def audit_as_results(audit: dict, group: str) -> dict:
    """An audit in the shape :func:`plot_tradeoff` reads: worst-case cMAP vs action top-1."""
    metrics = dict(privacy_cmap=audit['worst_case'][group]['cmap'])
    if audit.get('action'):
        metrics['action_top1'] = audit['action']['top1']
    return dict(method=audit['method'], protocol=audit['protocol'],
                dataset=f"{audit.get('dataset')}, worst case over attackers, {group}",
                metrics=metrics)
