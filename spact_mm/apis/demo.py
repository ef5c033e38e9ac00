"""The demo: SPAct's three stages on the synthetic dataset, with small networks.

``run_demo`` generates the synthetic data if absent, trains stage 1 (f_A to
the identity, or to the motion-only anchor in the default ``anchored`` recipe),
stage 2 (f_T and f_B on f_A's output) and stage 3 (minimax) through mmengine's
Runner with the demo configs of :data:`RECIPES`, and
reports the figures a user looks at (also written to ``figures.json``):
f_A's reconstruction L1 after stage 1, f_T's top-1 on raw and on anonymized
validation clips, L_B on validation clips before and after minimax, and a PNG
grid of raw versus anonymized frames.
"""
import json
import os.path as osp
import time
from pathlib import Path
from typing import Dict, Optional

from mmengine.config import Config

#: Demo configs of the three stages per recipe, relative to the configs folder.
#: ``paper``: SPAct as published (f_A started at the identity, configs/spact/).
#: ``anchored``: remedy 7b of issue 12 (ours): the motion-aware f_A started at the
#: motion-only anchor, the game held to it by L_TC and the trust region L_F; the one
#: variant whose fresh-attacker audit met the privacy target (docs/results.md).
RECIPES = dict(
    paper=dict(
        stage1='spact/spact-stage1_unet-tiny_200iter_synthetic-a.py',
        stage2='spact/spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a.py',
        stage3='spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'),
    anchored=dict(
        stage1='spact-remedies/spact-stage1-anchored_unet-tiny_400iter_synthetic-a.py',
        stage2='spact-remedies/spact-stage2-anchored_unet-tiny-r3d18-r18_150iter_synthetic-a.py',
        stage3='spact-remedies/'
        'spact-stage3-anchored-long-fid_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py'),
)
#: The demo's recipe (``tools/demo.py --recipe``).
DEMO_RECIPE = 'anchored'
#: The paper recipe's configs (the default of :func:`build_stage_cfg`).
STAGE_CONFIGS = RECIPES['paper']


def config_dir() -> Path:
    """The ``configs`` folder: the repository's, or the one packaged in ``.mim``."""
    pkg = Path(__file__).resolve().parents[1]
    for cand in (pkg.parent / 'configs', pkg / '.mim' / 'configs'):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f'no configs folder next to {pkg}')


def retarget_data(cfg: Config, data_root: str, num_workers: Optional[int] = None) -> None:
    """Point every dataloader of ``cfg`` at ``data_root`` (in place)."""
    old = cfg.data_root
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader is None:
            continue
        ds = loader.dataset
        ds.ann_file = data_root + ds.ann_file[len(old):] if ds.ann_file.startswith(old) \
            else ds.ann_file
        ds.data_prefix = dict(video=data_root)
        if num_workers is not None:
            loader.num_workers = num_workers
            loader.persistent_workers = num_workers > 0
    cfg.data_root = data_root


def build_stage_cfg(stage: str, work_root: str, data_root: str, max_iters: Optional[int] = None,
                    num_workers: Optional[int] = None, seed: int = 0,
                    recipe: str = 'paper') -> Config:
    """Load a demo stage config and point it at ``data_root`` and ``work_root``.

    Stage ``k`` reads stage ``k-1``'s ``final.pth`` from ``work_root/stage{k-1}``.
    ``recipe`` is a key of :data:`RECIPES`.
    """
    if recipe not in RECIPES:
        raise ValueError(f'recipe must be one of {sorted(RECIPES)}, got {recipe!r}')
    cfg = Config.fromfile(str(config_dir() / RECIPES[recipe][stage]))
    retarget_data(cfg, data_root, num_workers)
    cfg.work_dir = osp.join(work_root, stage)
    cfg.experiment_name = f'{stage}_{time.strftime("%Y%m%d_%H%M%S")}'
    cfg.randomness = dict(seed=seed, deterministic=False)
    if max_iters is not None:
        cfg.train_cfg.max_iters = max_iters
        cfg.train_cfg.val_interval = max_iters
        cfg.default_hooks.checkpoint.interval = max_iters
    if stage == 'stage2':
        cfg.model.data_preprocessor.checkpoint = osp.join(work_root, 'stage1', 'final.pth')
    if stage == 'stage3':  # the hand-over is model init (resume-proof), see the stage-3 config
        cfg.model.init_cfg.checkpoint = osp.join(work_root, 'stage2', 'final.pth')
    return cfg


#: Protocol config of the demo's privacy verdict (same-dataset, action set A).
AUDIT_CONFIG = 'protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py'


def _frames_grid(model, batch: dict, path: str, num_clips: int = 4, num_frames: int = 4,
                 scale: int = 3) -> None:
    """Save a PNG: per clip, a row of raw frames above a row of anonymized frames (labelled)."""
    from spact_mm.visualization import batch_anonymization_grid, save_grid

    save_grid(batch_anonymization_grid(model.data_preprocessor, batch, num_clips, num_frames,
                                       scale, labels=('raw', 'f_A(raw)')), path)


def privacy_verdict(work_dir: str, data_root: str, checkpoint: str, seed: int = 0,
                    mode: str = 'quick', anonymizer: Optional[dict] = None) -> dict:
    """The quick privacy audit of raw data and of the demo's f_A: the demo's verdict.

    Fresh attackers (:mod:`spact_mm.evaluation.privacy_audit`) are trained on
    raw and on f_A's output of the same-dataset protocol's data; the worst case
    over attackers per attribute group, the fresh f'_T's action top-1 and one
    sentence are returned (and written under ``{work_dir}/audit/``).
    ``anonymizer``: f_A's config, where it is not the protocol's UNet.
    """
    from spact_mm.evaluation.privacy_audit import audit_with_raw

    options = None if anonymizer is None else {'anonymizer': dict(_delete_=True, **anonymizer)}
    raw, anon = audit_with_raw(str(config_dir() / AUDIT_CONFIG), checkpoint,
                               osp.join(work_dir, 'audit'), mode, method='spact', seed=seed,
                               data_root=data_root, cfg_options=options)
    return dict(
        protocol=anon['protocol'], mode=mode, audit_json=osp.join(work_dir, 'audit', 'spact',
                                                                  'audit.json'),
        raw=dict({g: v['cmap'] for g, v in raw['worst_case'].items()},
                 action_top1=raw.get('action', {}).get('top1')),
        anonymized=dict({g: v['cmap'] for g, v in anon['worst_case'].items()},
                        action_top1=anon.get('action', {}).get('top1')),
        drop_pct=anon.get('drop_pct', {}), verdict=anon['verdict'])


def run_demo(work_dir: str = 'work_dirs/demo',
             data_root: str = 'data/synthetic',
             seed: int = 0,
             iters: Optional[Dict[str, int]] = None,
             num_workers: Optional[int] = None,
             data_kwargs: Optional[dict] = None,
             audit: bool = True,
             recipe: str = DEMO_RECIPE) -> dict:
    """Run the three stages and return (and write) the demo's figures.

    Args:
        work_dir: Root of the three stages' work dirs and of the outputs.
        data_root: Where the synthetic dataset lives (generated if absent).
        seed: Seed of data generation and training.
        iters: Optional ``{'stage1': n, ...}`` overriding the configs' max_iters.
        num_workers: Optional dataloader workers override.
        data_kwargs: Extra arguments of ``generate_synthetic_dataset``.
        audit: Run the quick privacy audit of raw data and of f_A (the verdict).
        recipe: Which stage configs (a key of :data:`RECIPES`).

    Returns:
        The figures dict written to ``{work_dir}/figures.json``.
    """
    from mmengine.runner import Runner

    from spact_mm.datasets.synthetic import generate_synthetic_dataset
    from spact_mm.evaluation import evaluate_ssl_loss
    from spact_mm.safe_loading import enable_safe_loading

    enable_safe_loading()  # the stages hand over through checkpoints

    iters = iters or {}
    start = time.time()
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    generate_synthetic_dataset(data_root, seed=seed, **(data_kwargs or {}))
    figures: dict = dict(data_root=data_root, seed=seed, recipe=recipe)

    def stage_runner(stage: str) -> Runner:
        cfg = build_stage_cfg(stage, work_dir, data_root, iters.get(stage), num_workers, seed,
                              recipe)
        return Runner.from_cfg(cfg)

    r1 = stage_runner('stage1')
    r1.train()
    m1 = r1.val()
    figures['stage1'] = dict(iters=r1.iter, recon_l1=m1['recon/l1'],
                             recon_l1_sum=m1['recon/l1_sum'])

    r2 = stage_runner('stage2')
    r2.train()
    figures['stage2'] = dict(iters=r2.iter, top1_anonymized=r2.val()['acc/top1'],
                             ssl_loss_val=evaluate_ssl_loss(r2.model, r2.val_dataloader, seed))

    r3 = stage_runner('stage3')
    r3.train()
    top1_anon = r3.val()['acc/top1']
    with r3.model.data_preprocessor.bypassed():
        top1_raw = r3.val()['acc/top1']
    figures['stage3'] = dict(iters=r3.iter, top1_anonymized=top1_anon, top1_raw=top1_raw,
                             ssl_loss_val=evaluate_ssl_loss(r3.model, r3.val_dataloader, seed))
    grid = osp.join(work_dir, 'anonymization_grid.png')
    _frames_grid(r3.model, next(iter(r3.val_dataloader)), grid)
    figures['grid_png'] = grid
    if audit:
        figures['privacy_audit'] = privacy_verdict(
            work_dir, data_root, osp.join(work_dir, 'stage3', 'final.pth'), seed,
            anonymizer=r3.cfg.model.data_preprocessor.anonymizer.to_dict())
    figures['seconds'] = round(time.time() - start, 1)
    with open(osp.join(work_dir, 'figures.json'), 'w') as f:
        json.dump(figures, f, indent=2)
    return figures


def _verdict_lines(pa: dict) -> list:
    groups = [g for g in pa['raw'] if g != 'action_top1']
    return [
        f"  privacy verdict ({pa['mode']} audit, {pa['protocol']} protocol, fresh attackers "
        'retrained on each input, worst case over attackers):',
        *[f"    {g} attributes cMAP: raw {pa['raw'][g]:.1f} -> f_A {pa['anonymized'][g]:.1f}"
          f"  ({pa['drop_pct'].get(g, 0.):+.0f}% drop)" for g in groups],
        f"    fresh f'_T action top-1: raw {pa['raw']['action_top1']:.1f} -> f_A "
        f"{pa['anonymized']['action_top1']:.1f}",
        f"    {pa['verdict']}",
        '    (L_B near chance does not mean privacy is removed: only retrained attackers '
        'measure it.)',
    ]


def format_figures(fig: dict) -> str:
    """Human-readable summary of :func:`run_demo`'s figures."""
    s1, s2, s3 = fig['stage1'], fig['stage2'], fig['stage3']
    recipe = fig.get('recipe', 'paper')
    target = 'the motion-only anchor' if recipe == 'anchored' else 'the input'
    return '\n'.join([
        f'SPAct demo figures ({recipe} recipe; synthetic dataset, action set A, validation split)',
        f"  stage 1  f_A L1 to {target} (per pixel, [0,1]): {s1['recon_l1']:.4f}"
        f"  (Eq. 4 per frame: {s1['recon_l1_sum']:.1f}) after {s1['iters']} iters",
        f"  stage 2  f_T top-1 on f_A(x): {s2['top1_anonymized']:.3f}   "
        f"L_B (val): {s2['ssl_loss_val']:.3f}",
        f"  stage 3  f_T top-1 on raw clips: {s3['top1_raw']:.3f}   on anonymized clips: "
        f"{s3['top1_anonymized']:.3f}",
        f"  L_B (val) before minimax: {s2['ssl_loss_val']:.3f}   after minimax: "
        f"{s3['ssl_loss_val']:.3f}   (after {s3['iters']} minimax iters)",
        f"  raw vs anonymized frames: {fig['grid_png']}",
    ] + (_verdict_lines(fig['privacy_audit']) if 'privacy_audit' in fig else []) + [
        f"  total time: {fig['seconds']:.0f} s",
    ])
