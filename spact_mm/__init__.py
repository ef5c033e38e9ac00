"""spact_mm: SPAct (CVPR 2022) privacy-preserving action recognition for mmaction2.

Importing the package registers every component in the ``spact_mm`` scope
(see :mod:`spact_mm.registry`) and mmaction2's and mmpretrain's own modules,
and does nothing else. Safe checkpoint loading (torch's allow-list for
mmengine's plain-data types, mmengine's loaders with ``weights_only=True``) is
an explicit step: :mod:`spact_mm.safe_loading`, listed in the configs'
``custom_imports`` and called by our tools.
"""
import warnings

# mmcv-lite (chosen on purpose, README "Installation") has no compiled ops; mmcv warns about
# that at import, in every tool, even on --help. Recognition uses no mmcv op.
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``',
                        category=UserWarning)

import mmaction.datasets  # noqa: E402, F401  (register mmaction2 datasets/transforms)
import mmaction.engine  # noqa: E402, F401
import mmaction.evaluation  # noqa: E402, F401
import mmaction.models  # noqa: E402, F401
import mmaction.visualization  # noqa: E402, F401  (ActionVisualizer)
import mmpretrain.models  # noqa: E402, F401  (so ``mmpretrain.XXX`` types resolve)

from . import datasets, engine, evaluation, models  # noqa: E402, F401
from .utils import register_all_modules  # noqa: E402

__version__ = '0.1.0'

__all__ = ['register_all_modules', '__version__']
