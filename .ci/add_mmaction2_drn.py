"""Give a PyPI install of mmaction2 1.2.0 the files its wheel and sdist lack.

The 1.2.0 wheel and sdist omit ``mmaction/models/localizers/drn`` (upstream issue
open-mmlab/mmaction2#2714), so ``import mmaction.models`` fails on them. ``vendor/`` holds
exactly those upstream files (Apache-2.0, licence beside them); copying them in gives what
a source install of mmaction2 1.2.0 has. Used only by ``.ci/run``; not part of the package.
"""
import importlib.util
import shutil
import sys
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / 'vendor' / 'mmaction2-v1.2.0-drn' / 'mmaction'
VERSION = '1.2.0'


def main() -> int:
    """Copy the missing files into the installed ``mmaction`` package; 0 on success."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        print('add_mmaction2_drn: mmaction2 is not installed', file=sys.stderr)
        return 1
    target = Path(list(spec.submodule_search_locations)[0])
    version_file = target / 'version.py'
    scope: dict = {}
    exec(compile(version_file.read_text(), str(version_file), 'exec'), scope)
    if scope.get('__version__') != VERSION:
        print(f'add_mmaction2_drn: {target} is mmaction2 {scope.get("__version__")}, '
              f'these files are for {VERSION}', file=sys.stderr)
        return 1
    copied = 0
    for src in sorted(VENDOR.rglob('*.py')):
        dst = target / src.relative_to(VENDOR)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied += 1
    print(f'add_mmaction2_drn: {copied} file(s) copied into {target}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
