"""The evaluation protocols of Sec. 4: fresh models on anonymized data.

A learned (or baseline) anonymizer f_A* is judged only by *fresh* models
trained on its output: a new action recognizer f'_T (any mmaction2
recognizer) trained on f_A*(action train set) and tested on f_A*(action test
set), and a new privacy attacker f'_B (any mmpretrain multi-label image
classifier, BCE) trained on f_A*(privacy train set) and tested on
f_A*(privacy test set). The three protocols differ only in the data, so a
protocol is a config:

- same-dataset (Sec. 4.1): action and privacy sets are the same videos (f'_B
  sees frames of them, e.g. ``PrivacyVideoDataset`` + ``ClipToImage``);
- cross-dataset (Sec. 4.2): action videos from one dataset, privacy images
  from another;
- novel action / novel privacy (Sec. 4.3): f'_T and f'_B are trained and
  tested on classes / attributes disjoint from those f_A was trained with.

Protocol config (an mmengine config; runtime keys such as ``default_scope``,
``default_hooks``, ``env_cfg``, ``randomness`` are shared by both tasks)::

    protocol = dict(name='same-dataset', dataset='synthetic-a', action_metric='top1')
    anonymizer = dict(type='UNetAnonymizer', ...)   # architecture of f_A checkpoints
    action = dict(model=..., train_dataloader=..., val_dataloader=..., val_evaluator=...,
                  train_cfg=dict(type='IterBasedTrainLoop', max_iters=N), optim_wrapper=...,
                  metric_key='acc/top1', metric_scale=100)      # f'_T
    privacy = dict(model=..., ..., val_evaluator=dict(type='ClasswiseMultiLabelMetric'))  # f'_B

``val_dataloader`` is the test set of each task. The driver replaces each
model's ``data_preprocessor`` with ``AnonymizerDataPreprocessor(frozen=True)``
around it, so f_A* runs on every training and test batch, trains each model
with mmengine's Runner, evaluates it, and writes ``results.json``.
"""
import copy
import json
import os
import os.path as osp
import time
from typing import Dict, Iterable, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict

from spact_mm.engine.hooks import ProgressBarHook  # noqa: F401  (importable from here, as before)
from spact_mm.models.data_preprocessors import ProtocolAnonymizerPreprocessor  # noqa: F401

#: Keys of a protocol config shared by both tasks' runners.
RUNTIME_KEYS = ('default_scope', 'custom_imports', 'default_hooks', 'custom_hooks', 'env_cfg',
                'log_processor', 'vis_backends', 'visualizer', 'log_level', 'randomness',
                'launcher')
TASKS = ('action', 'privacy')
#: Pipeline steps after which the oracle ``ObfuscatePersons`` is inserted.
_DECODE_STEPS = ('DecordDecode', 'LoadImageFromFile', 'mmpretrain.LoadImageFromFile',
                 'LoadPrivacyImage', 'OpenCVDecode', 'PyAVDecode', 'RawFrameDecode')
#: Figures of results.json: (key, higher_is_better).
FIGURES = (('action_top1', True), ('action_cmap', True), ('privacy_cmap', False),
           ('privacy_f1', False))


def resolve_anonymizer(spec: str, anonymizer_cfg: Optional[dict] = None
                       ) -> Tuple[dict, Optional[str], Optional[str]]:
    """Turn ``spec`` (a baseline name or a checkpoint path) into f_A's config.

    Args:
        spec: A name of :data:`BASELINES` / :data:`ORACLE_BASELINES`, or a
            checkpoint holding f_A (e.g. a SPAct stage-3 ``final.pth``).
        anonymizer_cfg: Architecture of f_A for checkpoints.

    Returns:
        ``(anonymizer config, checkpoint or None, oracle obfuscation mode or None)``.
    """
    from spact_mm.models.anonymizers.baselines import BASELINES, ORACLE_BASELINES

    if spec in BASELINES:
        return dict(BASELINES[spec]), None, None
    if spec in ORACLE_BASELINES:
        return dict(type='IdentityAnonymizer'), None, ORACLE_BASELINES[spec]
    if osp.isfile(spec):
        if anonymizer_cfg is None:
            raise ValueError(f'{spec} is a checkpoint: the protocol config needs `anonymizer` '
                             '(the architecture of f_A)')
        return copy.deepcopy(dict(anonymizer_cfg)), spec, None
    names = sorted(BASELINES) + sorted(ORACLE_BASELINES)
    raise ValueError(f'{spec!r} is neither a baseline ({names}) nor an existing checkpoint file')


def default_method_name(anonymizer: str, is_checkpoint: bool) -> str:
    """Name in tables: the baseline name, or a checkpoint's folder name."""
    if not is_checkpoint:
        return anonymizer
    return osp.basename(osp.dirname(osp.abspath(anonymizer))) or anonymizer


def _insert_oracle(pipeline: list, mode: str) -> list:
    out, inserted = [], False
    for step in pipeline:
        out.append(step)
        if step.get('type') in _DECODE_STEPS:
            out.append(dict(type='ObfuscatePersons', mode=mode))
            inserted = True
    if not inserted:
        raise ValueError('oracle obfuscation needs a decode / load step in every pipeline, '
                         f'found {[s.get("type") for s in pipeline]}')
    return out


def _dataloaders(task_cfg: dict) -> Iterable[dict]:
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if task_cfg.get(key) is not None:
            yield task_cfg[key]


def _retarget(obj, old: str, new: str):
    """Replace the prefix ``old`` of every string in a nested config."""
    if isinstance(obj, str):
        return new + obj[len(old):] if obj.startswith(old) else obj
    if isinstance(obj, dict):
        return type(obj)({k: _retarget(v, old, new) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(_retarget(v, old, new) for v in obj)
    return obj


def build_task_cfg(cfg: Config, task: str, anonymizer: dict, checkpoint: Optional[str],
                   oracle_mode: Optional[str], work_dir: str,
                   progress: bool = True) -> Config:
    """The full Runner config that trains and tests one fresh model on f_A*'s output.

    Args:
        cfg: The protocol config.
        task: ``'action'`` (f'_T) or ``'privacy'`` (f'_B).
        anonymizer: Config of f_A*.
        checkpoint: Checkpoint of f_A* (``None`` for baselines).
        oracle_mode: Oracle obfuscation mode, inserted into every pipeline.
        work_dir: The task's work dir.
        progress: Add a :class:`~spact_mm.engine.hooks.ProgressBarHook`.
    """
    task_cfg = copy.deepcopy(cfg[task].to_dict() if isinstance(cfg[task], ConfigDict)
                             else dict(cfg[task]))
    for key in ('metric_key', 'metric_scale', 'figure'):
        task_cfg.pop(key, None)
    run = {k: copy.deepcopy(cfg[k]) for k in RUNTIME_KEYS if k in cfg}
    run.update(task_cfg)
    run['work_dir'] = work_dir
    model = run['model']
    model['data_preprocessor'] = dict(
        type='ProtocolAnonymizerPreprocessor', _scope_='spact_mm', anonymizer=anonymizer,
        checkpoint=checkpoint, frozen=True, preprocessor=model.get('data_preprocessor'))
    if oracle_mode is not None:
        for loader in _dataloaders(run):
            ds = loader['dataset']
            ds['pipeline'] = _insert_oracle(ds['pipeline'], oracle_mode)
    from spact_mm.apis.train import check_sampler_fits_loop

    check_sampler_fits_loop(run)
    train_cfg = run['train_cfg']
    by_epoch = 'max_epochs' in train_cfg  # EpochBasedTrainLoop or IterBasedTrainLoop
    length = train_cfg['max_epochs' if by_epoch else 'max_iters']
    train_cfg['val_begin'] = length + 1  # no test inside training: the driver tests once
    run.setdefault('val_cfg', dict(type='ValLoop'))
    hooks = run.setdefault('default_hooks', {})
    if 'checkpoint' in hooks:
        hooks['checkpoint'] = dict(type='CheckpointHook', interval=length, by_epoch=by_epoch,
                                   max_keep_ckpts=1)
    run['custom_hooks'] = [h for h in run.get('custom_hooks', []) or []
                           if h.get('type') != 'FinalCheckpointHook']
    if progress:
        name = dict(action="f'_T (action)", privacy="f'_B (privacy)").get(task, task)
        run['custom_hooks'].append(dict(type='ProgressBarHook', desc=name))
    return Config(run)


#: Key of a dataloader named by dataset in a protocol config (see :func:`resolve_paper_datasets`).
DATASET_REF = 'paper_dataset'
_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def resolve_paper_datasets(cfg: Config, source: str) -> None:
    """Replace each ``dict(paper_dataset=NAME, dataloader=KEY)`` of the tasks by that dataloader.

    ``NAME`` is an entry of the config's ``paper_datasets`` catalogue
    (``configs/_base_/protocols/paper_datasets.py``): ``dict(base=<file stem under
    configs/_base_/datasets>, image_channel_order=None | 'rgb')``. The dataloader
    ``KEY`` of that base is taken as it is, with ``LoadPrivacyImage`` steps set to
    ``image_channel_order`` when given. This is what lets a plain-dict protocol
    config combine several dataset bases, which mmengine cannot inherit together
    (they share keys).

    Args:
        cfg: A loaded protocol config; changed in place.
        source: The config's file, named in errors.
    """
    from spact_mm.apis.demo import config_dir

    catalogue = cfg.get('paper_datasets') or {}
    for task in TASKS:
        for key in _DATALOADERS:
            ref = cfg.get(task, {}).get(key)
            if not isinstance(ref, dict) or DATASET_REF not in ref:
                continue
            name = ref[DATASET_REF]
            if name not in catalogue:
                raise KeyError(f'{source}: {task}.{key} names dataset {name!r}, which is not in '
                               f'its paper_datasets catalogue {sorted(catalogue)}')
            entry = catalogue[name]
            base = config_dir() / '_base_' / 'datasets' / f'{entry["base"]}.py'
            loader = Config.fromfile(str(base))[ref.get('dataloader', key)].to_dict()
            order = entry.get('image_channel_order')
            if order is not None:
                loader['dataset']['pipeline'] = [
                    dict(t, channel_order=order) if t['type'] == 'LoadPrivacyImage' else t
                    for t in loader['dataset']['pipeline']]
            cfg[task][key] = loader


def load_protocol_config(config: str, data_root: Optional[str] = None,
                         cfg_options: Optional[dict] = None) -> Config:
    """Load a protocol config, resolve its named datasets, merge ``cfg_options`` and point
    every task at ``data_root``."""
    cfg = Config.fromfile(config)
    resolve_paper_datasets(cfg, config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if data_root is not None and cfg.get('data_root'):
        for task in TASKS:
            if task in cfg:
                cfg[task] = _retarget(cfg[task].to_dict(), cfg.data_root, data_root)
        cfg.data_root = data_root
    return cfg


def relative_drops(results: dict, raw: dict) -> Dict[str, float]:
    """Relative drop (%) of each figure from raw data, as the ↓% of Tables 1/2.

    ``drop = (raw - value) / raw * 100`` for every figure present in both.
    """
    drops = {}
    for key, _ in FIGURES:
        v, r = results.get(key), raw.get('metrics', raw).get(key)
        if v is not None and r:
            drops[key] = (r - v) / r * 100.
    return drops


def check_face_boxes(anon_cfg: Optional[dict], face_boxes: Optional[str], config: str) -> None:
    """Refuse a face f_A unless its own detector was chosen (see :func:`run_protocol`)."""
    if face_boxes not in (None, 'detector'):
        raise ValueError(f"face_boxes must be None or 'detector', got {face_boxes!r}")
    if not anon_cfg or face_boxes == 'detector':
        return
    from spact_mm.evaluation.privacy_audit import takes_face_boxes
    from spact_mm.registry import MODELS

    if takes_face_boxes(MODELS.get(anon_cfg.get('type', ''))):
        raise ValueError(
            f"{config}: f_A {anon_cfg['type']} rewrites face boxes, and the protocol's "
            'pipelines carry no annotated face boxes, so it would run on its own detector '
            "(OpenCV's Haar cascade by default, which finds about 16 % of the drawn synthetic "
            'faces) and the figures would describe mostly raw faces. Audit it with '
            'tools/privacy_audit.py (it hands f_A the annotated boxes), or pass '
            '--face-boxes detector to accept the detector.')


def run_protocol(config: str,
                 anonymizer: str,
                 work_dir: str,
                 method: Optional[str] = None,
                 raw_results: Optional[str] = None,
                 tasks: Sequence[str] = TASKS,
                 data_root: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 progress: bool = True,
                 num_workers: Optional[int] = None,
                 reuse: Optional[str] = None,
                 face_boxes: Optional[str] = None) -> dict:
    """Train and test f'_T and f'_B on f_A*'s output; write ``results.json``.

    Args:
        config: Protocol config file (see module docstring).
        anonymizer: Baseline name or checkpoint of f_A* (see
            :func:`resolve_anonymizer`).
        work_dir: Output folder (``results.json``, one sub-folder per task).
        method: Name in tables (defaults to ``anonymizer``, or the checkpoint's
            parent folder name).
        raw_results: A ``results.json`` of the same protocol run with
            ``raw``; relative drops are computed against it.
        tasks: Which fresh models to train.
        data_root: Replace the config's ``data_root`` prefix in every path.
        cfg_options: Overrides merged into the protocol config.
        progress: Show progress bars.
        num_workers: Override every dataloader's ``num_workers``.
        reuse: A ``results.json`` of the same anonymizer whose figures of the
            tasks not in ``tasks`` are copied (e.g. the cross-dataset protocol
            on the synthetic data shares its action task with the same-dataset
            one); recorded as ``reused_from``.
        face_boxes: For a face f_A (``takes_face_boxes``: ``FaceAnonymizer``
            and the face baselines) only ``'detector'`` is accepted: the
            protocol's pipelines do not carry annotated face boxes, so f_A finds
            the faces with its own detector (OpenCV's Haar cascade by default,
            which misses most drawn synthetic faces). Without it a face f_A is
            refused before any training; :func:`~spact_mm.evaluation.privacy_audit.run_audit`
            (``tools/privacy_audit.py``) hands it the annotated boxes.

    Returns:
        The content of ``results.json``.

    Raises:
        ValueError: A face f_A without ``face_boxes='detector'``.
    """
    from mmengine.runner import Runner

    import spact_mm  # noqa: F401  (registers everything)

    start = time.time()
    cfg = load_protocol_config(config, data_root, cfg_options)
    if num_workers is not None:
        for task in TASKS:
            for loader in _dataloaders(cfg.get(task, {})):
                loader.num_workers = num_workers
                loader.persistent_workers = num_workers > 0
    anon_cfg, checkpoint, oracle = resolve_anonymizer(anonymizer, cfg.get('anonymizer'))
    check_face_boxes(anon_cfg, face_boxes, config)
    if method is None:
        method = default_method_name(anonymizer, checkpoint is not None)
    other = None
    if reuse is not None:  # checked before any training
        with open(reuse) as f:
            other = json.load(f)
        if other.get('anonymizer') != anonymizer:
            raise ValueError(f"{reuse} evaluates {other.get('anonymizer')!r}, not {anonymizer!r}")
    os.makedirs(work_dir, exist_ok=True)
    proto = dict(cfg.get('protocol', {}))
    results: dict = dict(method=method, protocol=proto.get('name', osp.basename(config)),
                         dataset=proto.get('dataset'), config=config,
                         anonymizer=anonymizer, metrics={}, raw_metrics={}, iters={})
    from spact_mm.safe_loading import enable_safe_loading

    enable_safe_loading()  # f_A's checkpoint and the tasks' Runners refuse pickled code
    for task in tasks:
        if task not in cfg:
            raise KeyError(f'{config} has no `{task}` section')
        task_cfg = build_task_cfg(cfg, task, anon_cfg, checkpoint, oracle,
                                  osp.join(work_dir, task), progress)
        runner = Runner.from_cfg(task_cfg)
        runner.train()
        metrics = runner.val()
        results['iters'][task] = runner.iter
        results['raw_metrics'][task] = {k: float(v) for k, v in metrics.items()
                                        if isinstance(v, (int, float))}
        section = cfg[task]
        if task == 'action':
            key = section.get('metric_key', 'acc/top1')
            figure = section.get('figure', 'action_top1')
            results['metrics'][figure] = float(metrics[key]) * section.get('metric_scale', 100.)
        else:
            prefix = section.get('metric_key', 'privacy')
            results['metrics']['privacy_cmap'] = float(metrics[f'{prefix}/cmap'])
            results['metrics']['privacy_f1'] = float(metrics[f'{prefix}/f1'])
    if reuse is not None:
        for task in set(TASKS) - set(tasks):
            keys = [k for k, _ in FIGURES if k.startswith(task)]
            results['metrics'].update({k: other['metrics'][k] for k in keys
                                       if k in other['metrics']})
            if task in other.get('iters', {}):
                results['iters'][task] = other['iters'][task]
        results['reused_from'] = reuse
    if raw_results is not None:
        with open(raw_results) as f:
            raw = json.load(f)
        if raw.get('protocol') != results['protocol']:
            raise ValueError(f"{raw_results} is for protocol {raw.get('protocol')!r}, not "
                             f"{results['protocol']!r}")
        results['raw_results'] = raw_results
        results['drops_pct'] = relative_drops(results['metrics'], raw)
    elif anonymizer == 'raw':
        results['drops_pct'] = {k: 0.0 for k in results['metrics']}
    results['seconds'] = round(time.time() - start, 1)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    return results


