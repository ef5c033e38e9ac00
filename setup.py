"""Install spact_mm, the SPAct plugin for mmaction2.

Like mmaction2's setup.py, configs, tools and model-index.yml are put into
``spact_mm/.mim`` so that ``mim`` and mmengine's ``spact_mm::`` config lookup
find them: symlinked for an editable install (``pip install -e .``), copied
for a wheel or sdist.
"""
import os
import os.path as osp
import platform
import shutil
import sys
import warnings

from setuptools import find_packages, setup

#: What goes into spact_mm/.mim (mmaction2 also ships dataset-index.yml; we have none).
MIM_FILES = ['tools', 'configs', 'model-index.yml']


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def add_mim_extension() -> None:
    """Add the files mim needs into the package (mmaction2's ``add_mim_extension``).

    They are symlinked to the originals for an editable install and copied for
    a wheel or sdist; other setup.py commands (egg_info, ...) change nothing.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'copy' if platform.system() == 'Windows' else 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    repo_path = osp.dirname(osp.abspath(__file__))
    mim_path = osp.join(repo_path, 'spact_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for filename in MIM_FILES:
        src_path = osp.join(repo_path, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            os.symlink(osp.relpath(src_path, osp.dirname(tar_path)), tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        elif osp.isdir(src_path):
            shutil.copytree(src_path, tar_path,
                            ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            warnings.warn(f'Cannot copy file {src_path}.', stacklevel=2)


add_mim_extension()
setup(
    name='spact_mm',
    version='0.1.0',
    description='SPAct: self-supervised privacy preservation for action '
    'recognition, as an mmaction2 plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=[
        'numpy<2', 'mmengine==0.10.7', 'mmcv-lite==2.0.1', 'mmaction2>=1.1.0,<2',
        'mmpretrain==1.2.0', 'decord==0.6.0', 'torch', 'torchvision'
    ],
    # Optional: ONNX export of f_A and the onnxruntime backend (tools/deployment/,
    # anonymize_video --backend onnxruntime), and oneDNN for the torch backend's onednn
    # option (spact_mm/apis/onednn_conv.py); pinned in requirements/deploy.txt.
    extras_require={'deploy': [
        'onnx>=1.16', 'onnxscript>=0.2', 'onnxruntime>=1.18',
        'onednn-cpu-gomp>=2023.2; platform_system == "Linux" and platform_machine == "x86_64"',
        'onednn-devel-cpu-gomp>=2023.2; platform_system == "Linux" and platform_machine == "x86_64"',
    ]},
    package_data={'spact_mm.apis': ['csrc/*.cpp']},
    license='Apache License 2.0',
    zip_safe=False)
