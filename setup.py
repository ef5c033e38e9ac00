"""Install spact_mm, the SPAct plugin for mmaction2."""
from setuptools import find_packages, setup


def readme() -> str:
    with open('README.md', encoding='utf-8') as f:
        return f.read()


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
        'numpy<2', 'mmengine==0.10.7', 'mmcv-lite==2.0.1', 'mmaction2==1.1.0',
        'mmpretrain==1.2.0', 'decord==0.6.0', 'torch', 'torchvision'
    ],
    license='Apache License 2.0',
    zip_safe=False)
