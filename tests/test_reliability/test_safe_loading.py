"""A checkpoint that would run code is refused on every load path, with a clear error.

Safe loading is the explicit step the configs (``custom_imports``) and our tools
take; this module takes it at import. That ``import spact_mm`` alone changes
nothing is checked in ``test_import_side_effects.py``.
"""
import os
import os.path as osp
import pickle

import pytest
import torch
from conftest import tiny_model_cfg
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

import spact_mm.safe_loading  # noqa: F401  (the explicit step)
from spact_mm.utils import load_checkpoint_safely
from spact_mm.utils.checkpoint import safe_load_from_http


class _Evil:
    """Unpickling this creates ``marker``: the code-execution the loaders must refuse."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture(params=['torch_zip', 'raw_pickle'])
def evil(request, tmp_path):
    marker = str(tmp_path / 'code_ran')
    path = str(tmp_path / 'evil.pth')
    payload = {'state_dict': {'w': torch.zeros(2)}, 'meta': {'x': _Evil(marker)}}
    if request.param == 'torch_zip':
        torch.save(payload, path)
    else:
        with open(path, 'wb') as f:
            pickle.dump(payload, f)
    yield path
    assert not osp.exists(marker), 'the crafted checkpoint executed code'


def test_load_checkpoint_safely(evil):
    with pytest.raises(RuntimeError, match=f'refusing to load {evil}') as err:
        load_checkpoint_safely(evil)
    assert 'set to `False` will likely succeed' not in str(err.value)  # no unsafe advice


def test_mmengine_loader_behind_load_from_and_resume(evil):
    assert CheckpointLoader._get_checkpoint_loader(evil).__module__ == 'spact_mm.utils.checkpoint'
    with pytest.raises(RuntimeError, match='refusing to load'):
        _load_checkpoint(evil, map_location='cpu')


def _runner_cfg(tmp_path, evil, resume):
    from mmengine.config import Config

    cfg = Config(dict(
        model=tiny_model_cfg(), work_dir=str(tmp_path / 'work'), load_from=evil, resume=resume,
        default_scope='spact_mm', experiment_name=f'evil_{resume}_{osp.basename(str(tmp_path))}',
        train_dataloader=None, default_hooks=dict(logger=None, checkpoint=None)))
    return cfg


@pytest.mark.parametrize('resume', [False, True])
def test_runner_load_from_and_resume(evil, tmp_path, resume):
    from mmengine.runner import Runner

    runner = Runner.from_cfg(_runner_cfg(tmp_path, evil, resume))
    with pytest.raises(RuntimeError, match=f'refusing to load {evil}'):
        if resume:
            runner.resume(evil)
        else:
            runner.load_or_resume()


def test_tools_test_checkpoint_argument(evil, tmp_path):
    """``tools/test.py CONFIG CHECKPOINT``: the checkpoint becomes ``load_from``."""
    from conftest import load_tool

    from spact_mm.apis.demo import config_dir
    from spact_mm.apis.test import build_test_cfg
    parse_test_args = load_tool('test.py').parse_args

    cfg_file = str(config_dir() / 'spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_'
                   'synthetic-a.py')
    cfg = build_test_cfg(parse_test_args([cfg_file, evil, '--work-dir', str(tmp_path)]))
    assert cfg.load_from == evil
    from mmengine.runner import Runner

    cfg.test_dataloader = None
    runner = Runner(model=cfg.model, work_dir=cfg.work_dir, load_from=cfg.load_from,
                    default_scope='spact_mm', experiment_name=f'evil_test_{id(cfg)}',
                    default_hooks=dict(logger=None, checkpoint=None))
    with pytest.raises(RuntimeError, match=f'refusing to load {evil}'):
        runner.load_or_resume()


def test_anonymizer_checkpoint_argument(evil):
    from spact_mm.registry import MODELS

    with pytest.raises(RuntimeError, match='refusing to load'):
        MODELS.build(dict(type='AnonymizerDataPreprocessor',
                          anonymizer=dict(type='UNetAnonymizer', base_channels=4, num_stages=2),
                          checkpoint=evil,
                          preprocessor=dict(type='ActionDataPreprocessor',
                                            format_shape='NCTHW')))


def test_url_checkpoints(evil, tmp_path):
    """``load_from='https://...'``: mmengine would call torch.hub with weights_only=False.
    urllib also serves ``file://`` URLs, which lets the test run offline."""
    url = 'file://' + evil
    with pytest.raises(RuntimeError, match='refusing to load'):
        safe_load_from_http(url, map_location='cpu', model_dir=str(tmp_path / 'hub'))
    assert CheckpointLoader._get_checkpoint_loader('https://x/y.pth') is safe_load_from_http


def test_good_and_broken_checkpoints(tmp_path):
    good = str(tmp_path / 'good.pth')
    torch.save({'state_dict': {'w': torch.arange(3.)}}, good)
    assert torch.equal(_load_checkpoint(good, map_location='cpu')['state_dict']['w'],
                       torch.arange(3.))
    with open(good, 'rb') as f:
        data = f.read()
    for name, content, msg in [('empty.pth', b'', 'cannot load'),
                               ('truncated.pth', data[:len(data) // 2], 'cannot load'),
                               ('text.pth', b'hello', 'cannot load'),
                               ('text2.pth', b'not a checkpoint', 'cannot load'),
                               ('random.pth', os.urandom(4096), 'cannot load')]:
        path = str(tmp_path / name)
        with open(path, 'wb') as f:
            f.write(content)
        with pytest.raises(RuntimeError, match=f'{msg} {path}'):
            _load_checkpoint(path, map_location='cpu')


# ------------------------------------------------------------- issue 16, items 9-11
def test_every_mmengine_scheme_goes_through_the_safe_loaders():
    schemes = CheckpointLoader._schemes
    assert {'', 'http://', 'open-mmlab://', 'openmmlab://', 'pavi://', 'torchvision://',
            'mmcls://'} <= set(schemes)
    for prefix, loader in schemes.items():
        if loader.__module__ != 'spact_mm.utils.checkpoint':  # these call ours by name
            assert prefix in ('modelzoo://', 'torchvision://', 'mmcls://'), prefix
            from mmengine.runner import checkpoint as mm_ckpt

            assert mm_ckpt.load_from_http.__module__ == 'spact_mm.utils.checkpoint'


def test_open_mmlab_name_refused_even_when_torch_is_told_to_load_unsafely(evil, monkeypatch):
    """A crafted file mapped to ``open-mmlab://evilmodel`` (mmengine's table lists local
    paths relative to MMENGINE_HOME), with the user's TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1."""
    from mmengine.runner import checkpoint as mm_ckpt

    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    monkeypatch.setattr(mm_ckpt, 'get_external_models', lambda: {'evilmodel': evil})
    for name in ('open-mmlab://evilmodel', 'openmmlab://evilmodel'):
        with pytest.raises(RuntimeError, match=f'refusing to load {evil}') as err:
            _load_checkpoint(name, map_location='cpu')
        assert 'likely succeed' not in str(err.value)
    with pytest.raises(RuntimeError, match=f'refusing to load {evil}'):  # local paths too
        _load_checkpoint(evil, map_location='cpu')


def test_code_running_payload_message_has_no_unsafe_advice(evil):
    with pytest.raises(RuntimeError) as err:
        _load_checkpoint(evil, map_location='cpu')
    msg = str(err.value)
    assert 'refusing to load' in msg and evil in msg
    assert 'Unsupported global' in msg or 'raw pickle that imports or calls objects' in msg
    assert 'weights_only' not in msg and 'likely succeed' not in msg


def test_history_buffer_may_not_carry_statistics_methods(tmp_path, monkeypatch):
    """A "plain data" checkpoint whose HistoryBuffer state carries ``statistics_methods``
    (plain strings: no code, but mmengine's ``__setstate__`` merges it into the
    process-wide table, and LoggerHook then crashes)."""
    from mmengine.logging import HistoryBuffer

    buf = HistoryBuffer([1.0, 2.0], [1, 1])
    table = dict(HistoryBuffer._statistics_methods)
    assert set(table) == {'min', 'max', 'current', 'mean'}
    path = str(tmp_path / 'tamper.pth')
    with monkeypatch.context() as m:
        m.setattr(HistoryBuffer, '__getstate__',
                  lambda self: dict(self.__dict__, statistics_methods={'mean': 'gone'}))
        torch.save({'state_dict': {'w': torch.zeros(1)}, 'message_hub': {'loss': buf}}, path)
    with pytest.raises(RuntimeError, match=f'{path}.*statistics_methods'):
        _load_checkpoint(path, map_location='cpu')
    assert HistoryBuffer._statistics_methods == table  # the global table is untouched
    # A buffer with only the plain fields still round-trips.
    good = str(tmp_path / 'good.pth')
    torch.save({'state_dict': {}, 'message_hub': {'loss': buf}}, good)
    loaded = _load_checkpoint(good, map_location='cpu')['message_hub']['loss']
    assert loaded.mean() == 1.5 and HistoryBuffer._statistics_methods == table


@pytest.mark.parametrize('content', [[1, 2], 7, torch.zeros(3)])
def test_a_checkpoint_that_is_not_a_dict_is_named(tmp_path, content):
    path = str(tmp_path / 'odd.pth')
    torch.save(content, path)
    with pytest.raises(RuntimeError, match=f'cannot load {path}: it holds a '
                                           f'{type(content).__name__}, not a checkpoint'):
        _load_checkpoint(path, map_location='cpu')
