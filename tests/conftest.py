"""Shared fixtures: a tiny SPAct model built from the demo config, and a batch."""
import copy
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import spact_mm  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def tiny_model_cfg(num_classes: int = 4) -> dict:
    """The demo model config (configs/_base_/models/spact_tiny.py), without dropout."""
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/models/spact_tiny.py'))
    model = copy.deepcopy(cfg.model.to_dict())
    model['cls_head']['dropout_ratio'] = 0.0
    model['cls_head']['num_classes'] = num_classes
    return model


def make_batch(n: int = 4, t: int = 8, size: int = 16, num_classes: int = 4, seed: int = 0):
    """A dataloader-style batch of uint8 NCTHW clips with action labels."""
    from spact_mm.testing import random_batch

    return random_batch(n, t, size, num_classes, seed)


@pytest.fixture(autouse=True)
def _spact_scope():
    init_default_scope('spact_mm')
    yield


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """Give every test the session's CPU thread count back: tools such as the
    benchmarks call ``torch.set_num_threads``, and a count left behind changes
    the rounding of later tests' CPU sums (CI of 2026-12-01: two resume tests
    compared a run at one thread with a subprocess at two)."""
    import torch

    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)


_TOOLS = {}


def load_tool(path: str):
    """A script of ``tools/`` (e.g. ``'train.py'``, ``'analysis_tools/minimax_benchmark.py'``)
    imported as a module, once per session, so tests call its ``parse_args``/``main`` or
    functions."""
    import importlib.util
    import sys

    if path not in _TOOLS:
        file = ROOT / 'tools' / path
        name = 'spact_tools_' + path[:-len('.py')].replace('/', '_')
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _TOOLS[path] = module
    return _TOOLS[path]
