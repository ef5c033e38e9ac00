"""Build a :class:`MinimaxOptimWrapper`: one optimiser per SPAct branch."""
import copy
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor

from spact_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS

from .minimax_optim_wrapper import BRANCHES

#: Default mapping from branch to the model attributes (dotted paths) it owns.
DEFAULT_BRANCH_MODULES: Dict[str, Sequence[str]] = dict(
    anonymizer=('data_preprocessor.anonymizer', ),
    recognizer=('backbone', 'neck', 'cls_head'),
    privacy=('privacy_head', ),
)


def _get(model: nn.Module, path: str) -> Optional[nn.Module]:
    obj = model
    for name in path.split('.'):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MinimaxOptimWrapperConstructor:
    """Split the model into f_A / f_T / f_B and build an optimiser for each.

    Config (``optim_wrapper`` of a training config)::

        optim_wrapper = dict(
            constructor='MinimaxOptimWrapperConstructor',
            type='MinimaxOptimWrapper', ssl_weight=0.1,
            anonymizer_steps=1, adversary_steps=1,
            anonymizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),  # alpha_A
            recognizer=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)),  # alpha_T
            privacy=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))     # alpha_B

    Each branch is built by mmengine's ``DefaultOptimWrapperConstructor`` on
    the branch's modules, so ``paramwise_cfg`` may be given per branch. Leave a
    branch out to keep it frozen. ``branch_modules`` overrides which model
    attributes belong to which branch (defaults: :data:`DEFAULT_BRANCH_MODULES`).

    Args:
        optim_wrapper_cfg: The ``optim_wrapper`` config described above.
        paramwise_cfg: Must be ``None``; give it inside a branch instead.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('give paramwise_cfg inside each branch of the minimax optim_wrapper')
        self.cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        self.branch_modules = dict(DEFAULT_BRANCH_MODULES)
        self.branch_modules.update(self.cfg.pop('branch_modules', {}) or {})

    def _branch_module(self, model: nn.Module, branch: str) -> nn.ModuleDict:
        found = {p.replace('.', '__'): m for p in self.branch_modules[branch]
                 if (m := _get(model, p)) is not None}
        return nn.ModuleDict(found)

    def __call__(self, model: nn.Module):
        if is_model_wrapper(model):
            model = model.module
        cfg = dict(self.cfg)
        wrapper_type = cfg.pop('type', 'MinimaxOptimWrapper')
        branch_cfgs = {b: cfg.pop(b) for b in BRANCHES if b in cfg}
        branch_params: Dict[str, List[nn.Parameter]] = {}
        branch_modules: Dict[str, List[nn.Module]] = {}
        wrappers = {}
        for branch in BRANCHES:
            modules = self._branch_module(model, branch)
            params = list(modules.parameters())
            branch_params[branch] = params
            branch_modules[branch] = list(modules.values())
            if branch not in branch_cfgs:
                continue
            if not params:
                raise ValueError(f'minimax branch {branch!r} has an optimiser but the model has '
                                 f'no parameters at {list(self.branch_modules[branch])}')
            bcfg = dict(branch_cfgs[branch])
            pcfg = bcfg.pop('paramwise_cfg', None)
            wrappers[branch] = DefaultOptimWrapperConstructor(bcfg, pcfg)(modules)
        seen: Dict[int, str] = {}
        for branch, params in branch_params.items():
            for p in params:
                if id(p) in seen:
                    raise ValueError(f'a parameter belongs to both {seen[id(p)]!r} and {branch!r}')
                seen[id(p)] = branch
        optim_wrapper = OPTIM_WRAPPERS.build(dict(type=wrapper_type, **cfg, **wrappers))
        optim_wrapper.set_branch_modules(branch_modules)
        return optim_wrapper
