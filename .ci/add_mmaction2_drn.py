"""Give a PyPI install of mmaction2 1.2.0 the files its wheel and sdist lack.

The 1.2.0 wheel and sdist omit ``mmaction/models/localizers/drn`` (upstream issue
open-mmlab/mmaction2#2714), so ``import mmaction.models`` fails on them. ``vendor/`` holds
exactly those upstream files (Apache-2.0, licence beside them); copying them in gives what
a source install of mmaction2 1.2.0 has. Used only by ``.ci/run``; not part of the package.
``--remove`` takes those files out again (before ``.ci/run`` swaps mmaction2 back to 1.1.0,
whose uninstall of 1.2.0 would leave them behind).
"""
import importlib.util
import shutil
import sys
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / 'vendor' / 'mmaction2-v1.2.0-drn' / 'mmaction'
VERSION = '1.2.0'


def main(remove: bool = False) -> int:
    """Copy the missing files into the installed ``mmaction`` package; 0 on success.

    Args:
        remove: Delete the files this script copies (those identical to ``vendor/``) and
            the folders left empty, instead of copying.
    """
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
    if remove:
        removed = 0
        for src in sorted(VENDOR.rglob('*.py')):
            dst = target / src.relative_to(VENDOR)
            if dst.is_file() and dst.read_bytes() == src.read_bytes():
                dst.unlink()
                removed += 1
        for folder in sorted({p.parent for p in VENDOR.rglob('*.py')}, reverse=True):
            dst = target / folder.relative_to(VENDOR)
            pycache = dst / '__pycache__'
            if pycache.is_dir():
                shutil.rmtree(pycache)
            if dst.is_dir() and not any(dst.iterdir()):
                dst.rmdir()
        print(f'add_mmaction2_drn: {removed} file(s) removed from {target}')
        return 0
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
    sys.exit(main(remove='--remove' in sys.argv[1:]))
