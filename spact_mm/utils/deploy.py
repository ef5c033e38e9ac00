"""Put a trained, frozen f_A^* in front of any mmaction2 recognizer config.

After SPAct training, f_T and f_B are discarded and the frozen anonymizer f_A^*
is what gets deployed (Sec. 4, "the anonymization function is now frozen").
:func:`put_anonymizer_in_front` rewrites a recognizer config (a model-zoo TSN,
I3D, SlowFast, ... config, or your own) so that its ``data_preprocessor`` is an
``AnonymizerDataPreprocessor`` wrapping the original one: mmengine's Runner
(``tools/test.py``) and mmaction2's ``init_recognizer`` / ``inference_recognizer``
then evaluate that recognizer on anonymized input. ``tools/deploy_anonymizer.py``
writes the result as a config file.
"""
import copy
from pathlib import Path
from typing import Optional, Union

from mmengine.config import Config, ConfigDict

#: Registry scope of :class:`AnonymizerDataPreprocessor` (set as ``_scope_`` so the
#: wrapper and f_A resolve even under the recognizer's ``default_scope='mmaction'``).
SCOPE = 'spact_mm'


def anonymizer_of(config: Union[str, Path, Config, dict]) -> dict:
    """f_A's model config (e.g. ``dict(type='UNetAnonymizer', ...)``).

    Args:
        config: f_A's config itself (a dict with a ``type``), or a spact_mm config
            (path or :class:`Config`) whose ``model.data_preprocessor`` is an
            ``AnonymizerDataPreprocessor``: its ``anonymizer`` entry is returned.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    if isinstance(config, Config) or 'model' in config:
        pre = (config.get('model') or {}).get('data_preprocessor') or {}
        if not str(pre.get('type', '')).endswith('AnonymizerDataPreprocessor'):
            raise ValueError('the config has no f_A: its model.data_preprocessor is '
                             f'{pre.get("type")!r}, not AnonymizerDataPreprocessor')
        config = pre['anonymizer']
    config = config.to_dict() if isinstance(config, ConfigDict) else dict(config)
    if 'type' not in config:
        raise ValueError(f'not an anonymizer config (no type): {config}')
    return copy.deepcopy(config)


def put_anonymizer_in_front(recognizer_cfg: Union[str, Path, Config],
                            anonymizer: Union[str, Path, Config, dict],
                            checkpoint: Optional[str] = None,
                            frozen: bool = True) -> Config:
    """Return a copy of ``recognizer_cfg`` whose model sees f_A(x) instead of x.

    The recognizer's ``model.data_preprocessor`` (``ActionDataPreprocessor`` if
    it has none) is wrapped by ``AnonymizerDataPreprocessor``, which still
    stacks and normalises the batch with it and then applies f_A frame by frame
    (NCTHW clips as in I3D/SlowFast, NCHW frames as in TSN). ``spact_mm`` is
    added to ``custom_imports``; nothing else changes (dataset, pipeline,
    evaluator, ``default_scope``).

    Args:
        recognizer_cfg: Any mmaction2 recognizer config (path or :class:`Config`).
        anonymizer: f_A's config, or a spact_mm config holding it (see :func:`anonymizer_of`).
        checkpoint: Checkpoint holding f_A's weights (a SPAct ``final.pth``).
        frozen: Keep f_A fixed (eval mode, no gradients); ``False`` lets a training
            run of the recognizer fine-tune f_A too.

    Returns:
        The new config.
    """
    if isinstance(recognizer_cfg, (str, Path)):
        cfg = Config.fromfile(str(recognizer_cfg))
    else:
        cfg = copy.deepcopy(recognizer_cfg)
    if 'model' not in cfg:
        raise ValueError('recognizer_cfg has no model')
    old = cfg.model.get('data_preprocessor') or dict(type='ActionDataPreprocessor')
    if str(old.get('type', '')).endswith('AnonymizerDataPreprocessor'):
        raise ValueError('this recognizer already has an AnonymizerDataPreprocessor')
    old = old.to_dict() if isinstance(old, ConfigDict) else dict(old)
    cfg.model.data_preprocessor = dict(
        type='AnonymizerDataPreprocessor',
        _scope_=SCOPE,
        anonymizer=anonymizer_of(anonymizer),
        preprocessor=old,
        checkpoint=checkpoint,
        frozen=frozen)
    imports = cfg.get('custom_imports', {}) or {}
    names = list(imports.get('imports', []))
    for name in (SCOPE, f'{SCOPE}.safe_loading'):  # register; load checkpoints safely
        if name not in names:
            names.append(name)
    cfg.custom_imports = dict(imports=names,
                              allow_failed_imports=imports.get('allow_failed_imports', False))
    return cfg


