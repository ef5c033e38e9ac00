"""Registries of scope ``spact_mm``, children of mmaction2's.

Every ``spact_mm`` component registers here. Because each registry is a child
of the mmaction2 registry of the same name, configs with
``default_scope = 'spact_mm'`` can use every mmaction2 type by its plain name
and every mmpretrain type with the ``mmpretrain.`` prefix.
"""
from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import LOG_PROCESSORS as MMACTION_LOG_PROCESSORS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMACTION_OPTIM_WRAPPER_CONSTRUCTORS
from mmaction.registry import OPTIM_WRAPPERS as MMACTION_OPTIM_WRAPPERS
from mmaction.registry import OPTIMIZERS as MMACTION_OPTIMIZERS
from mmaction.registry import PARAM_SCHEDULERS as MMACTION_PARAM_SCHEDULERS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmaction.registry import WEIGHT_INITIALIZERS as MMACTION_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

_SCOPE = 'spact_mm'


def _child(name: str, parent: Registry, locations: list) -> Registry:
    return Registry(name, parent=parent, scope=_SCOPE, locations=locations)


RUNNERS = _child('runner', MMACTION_RUNNERS, ['spact_mm.engine'])
LOOPS = _child('loop', MMACTION_LOOPS, ['spact_mm.engine'])
HOOKS = _child('hook', MMACTION_HOOKS, ['spact_mm.engine'])
DATASETS = _child('dataset', MMACTION_DATASETS, ['spact_mm.datasets'])
DATA_SAMPLERS = _child('data sampler', MMACTION_DATA_SAMPLERS, ['spact_mm.datasets'])
TRANSFORMS = _child('transform', MMACTION_TRANSFORMS, ['spact_mm.datasets'])
MODELS = _child('model', MMACTION_MODELS, ['spact_mm.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMACTION_MODEL_WRAPPERS, ['spact_mm.engine'])
WEIGHT_INITIALIZERS = _child('weight initializer', MMACTION_WEIGHT_INITIALIZERS,
                             ['spact_mm.models'])
OPTIMIZERS = _child('optimizer', MMACTION_OPTIMIZERS, ['spact_mm.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMACTION_OPTIM_WRAPPERS, ['spact_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMACTION_OPTIM_WRAPPER_CONSTRUCTORS, ['spact_mm.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMACTION_PARAM_SCHEDULERS, ['spact_mm.engine'])
METRICS = _child('metric', MMACTION_METRICS, ['spact_mm.evaluation'])
EVALUATOR = _child('evaluator', MMACTION_EVALUATOR, ['spact_mm.evaluation'])
VISUALIZERS = _child('visualizer', MMACTION_VISUALIZERS, ['spact_mm.engine'])
VISBACKENDS = _child('vis_backend', MMACTION_VISBACKENDS, ['spact_mm.engine'])
LOG_PROCESSORS = _child('log processor', MMACTION_LOG_PROCESSORS, ['spact_mm.engine'])
