"""Opt-in: every mmengine checkpoint load in this process refuses code (``weights_only=True``).

``import spact_mm`` only registers components. Loading checkpoints safely
changes process-wide state of torch and mmengine, so it is an explicit step,
taken in one of three ways:

- a config lists this module in ``custom_imports``, as
  ``configs/_base_/default_runtime.py`` does::

      custom_imports = dict(imports=['spact_mm', 'spact_mm.safe_loading'])

  mmengine's ``Config.fromfile`` imports it, so mmaction2's own
  ``tools/train.py`` and ``tools/test.py``, ``mim train`` and
  ``mmaction.apis.init_recognizer`` get it with our configs;
- our tools and apis (``spact_mm.apis.train.build_runner``, the demo, the
  protocol driver) call :func:`enable_safe_loading` before they build a Runner;
- user code calls :func:`enable_safe_loading` (or imports this module).

What it changes (see :mod:`spact_mm.utils.checkpoint`): torch's
``weights_only`` allow-list gains exactly the plain-data types mmengine
checkpoints hold (so ``load_from`` and ``resume`` work with torch >= 2.6);
``HistoryBuffer`` pickles and unpickles plain fields only; and every
mmengine ``CheckpointLoader`` scheme (local files, URLs, ``open-mmlab://``,
``s3://``, ``pavi://``) loads with ``weights_only=True``. A file holding
anything else is refused with an error naming it.
:func:`spact_mm.utils.load_checkpoint_safely` is safe without this step.
"""
from spact_mm.utils.checkpoint import (
    register_checkpoint_safe_types,
    register_safe_checkpoint_loaders,
)

__all__ = ['enable_safe_loading']


def enable_safe_loading() -> None:
    """Allow-list mmengine's plain-data types and make its checkpoint loaders safe.

    Idempotent: calling it again re-registers the same loaders.
    """
    register_checkpoint_safe_types()
    register_safe_checkpoint_loaders()


enable_safe_loading()  # importing the module is the step (``custom_imports``)
