"""Rebuild the audit section of ``docs/results.md`` from its parts.

The section between ``<!-- AUDIT TABLES -->`` and ``<!-- /AUDIT TABLES -->`` is the
hand-written introduction (``docs/results/src/audit_intro.md``: what is measured, the
commands), the tables and trade-off plots that ``audit_table.py`` generates from every
committed ``docs/results/audit/<protocol>/seed<k>/<method>/audit.json``, and the
hand-written reading of them (``docs/results/src/audit_narrative.md``). Edit those two
files, not the section. With ``--work-audit`` the finished audits of a work dir (e.g.
``work_dirs/audit``, from ``synthetic_audit.sh``) are copied in first.

    python tools/analysis_tools/assemble_results.py [--work-audit work_dirs/audit]
"""
import argparse
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BEGIN, END = '<!-- AUDIT TABLES -->', '<!-- /AUDIT TABLES -->'


def copy_audits(work_audit: str, dest: str) -> int:
    """Copy ``audit.json`` / ``audit.md`` of every finished audit under ``work_audit``."""
    n = 0
    for src in glob.glob(osp.join(work_audit, '*', 'seed*', '*', 'audit.json')):
        d = osp.join(dest, osp.relpath(osp.dirname(src), work_audit))
        os.makedirs(d, exist_ok=True)
        for name in ('audit.json', 'audit.md'):
            if osp.exists(osp.join(osp.dirname(src), name)):
                shutil.copy(osp.join(osp.dirname(src), name), d)
        n += 1
    return n


def main(argv=None) -> int:
    """Regenerate the tables and plots, then write the section atomically; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--work-audit', default=None,
                        help='copy in the audits of this work dir first')
    args = parser.parse_args(argv)
    results = osp.join(ROOT, 'docs', 'results')
    if args.work_audit:
        print(f'{copy_audits(args.work_audit, osp.join(results, "audit"))} audit(s) copied')
    files = sorted(glob.glob(osp.join(results, 'audit', '*', 'seed*', '*', 'audit.json')))
    tables_md = osp.join(results, 'audit_tables.md')
    subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'audit_table.py'),
                    *files, '--out', tables_md, '--plot-dir', results], check=True)
    with open(tables_md) as f:
        tables = f.read().replace('\n## ', '\n### ')
    if tables.startswith('## '):
        tables = '#' + tables
    parts = []
    for name in ('audit_intro.md', 'audit_narrative.md'):
        with open(osp.join(results, 'src', name)) as f:
            parts.append(f.read())
    path = osp.join(ROOT, 'docs', 'results.md')
    with open(path) as f:
        text = f.read()
    if END not in text:
        print(f'error: {path} has no {END} marker', file=sys.stderr)
        return 1
    rest = text[text.index(END) + len(END):]
    new = (parts[0] + '\n' + BEGIN + '\n' + tables.rstrip() + '\n\n' + parts[1].rstrip()
           + '\n\n' + END + rest)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(new)
    os.replace(tmp, path)  # atomic
    print(f'wrote {path} ({len(new)} characters)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
