"""Identity attacks and action top-1 of face anonymizers on the synthetic face benchmark.

A thin CLI over :mod:`spact_mm.evaluation.face_attacks`: for raw video, the face
baselines (blur, pixelation, masking, noise) and a learned face anonymizer
(``--learned-config`` + ``--learned-checkpoint``), it trains fresh attackers and a
fresh f'_T and writes ``face_results.json`` and the trade-off plot ``face_tradeoff.png``
(atomically) into ``--out-dir``. Example::

    CFG=configs/face/face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py
    python tools/analysis_tools/face_identity_attacks.py --root data/synthetic-faces \\
        --learned-config $CFG --learned-checkpoint work_dirs/face/learned-seed0/final.pth \\
        --out-dir docs/results/face --seed 0
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys
import tempfile
import time

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from spact_mm.evaluation.attackers import FitSettings  # noqa: E402
from spact_mm.evaluation.face_attacks import (  # noqa: E402
    action_attack,
    anonymize_split,
    detector_recall,
    identity_attacks,
    linear_identity_attacks,
    load_face_split,
)

BASELINES = ('face-blur', 'face-pixelate', 'face-mask', 'face-noise')


def _atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path) or '.', suffix='.tmp')
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def plot(results: dict, path: str) -> None:
    """Identification top-1 (x) against action top-1 (y), one point per method."""
    import io

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for i, (name, r) in enumerate(results['methods'].items()):
        ax.scatter(r['ident_top1'], r['action_top1'], s=40)
        ax.annotate(name, (r['ident_top1'], r['action_top1']), textcoords='offset points',
                    xytext=(-30, 8 if i % 2 else -14), fontsize=8)
    ax.axvline(results['chance_ident_top1'], ls=':', c='grey', lw=1)
    ax.axhline(25.0, ls=':', c='grey', lw=1)  # action chance (4 classes)
    ax.set_xlim(0, 105)
    ax.set_ylim(0, 100)
    ax.set_xlabel('identity top-1 of a fresh classifier on anonymized faces (%)')
    ax.set_ylabel("action top-1 of a fresh f'_T (%)")
    ax.set_title('Face anonymization, synthetic faces (upper left: private and useful;'
                 '\ndotted: chance)', fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=120)
    plt.close(fig)
    _atomic(path, buf.getvalue())


def write_examples(clips, path: str, every: int = 13, count: int = 8) -> None:
    """First frames of ``count`` validation clips (every ``every``-th), side by side, 2x."""
    import cv2
    import numpy as np

    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    frames = clips[::every][:count, :, 0].permute(0, 2, 3, 1).clamp(0, 1).numpy()
    strip = np.concatenate(list((frames * 255).round().astype(np.uint8)), axis=1)
    strip = cv2.resize(strip, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(strip[..., ::-1]))
    if not ok:
        raise OSError(f'cannot encode {path}')
    _atomic(path, buf.tobytes())


def markdown_table(results: dict) -> str:
    """The results as a markdown table (one row per method)."""
    rows = ['| method | identification top-1 (%) | verification vs raw gallery: top-1 (%) | '
            "EER (%) | fresh f'_T action top-1 (%) | mean abs. pixel change |",
            '| --- | --- | --- | --- | --- | --- |']
    for name, r in results['methods'].items():
        rows.append(f"| {name} | {r['ident_top1']:.1f} | {r['verif_top1']:.1f} | "
                    f"{r['verif_eer']:.1f} | {r['action_top1']:.1f} | {r['mean_abs_change']:.4f} |")
    rows.append(f"| chance | {results['chance_ident_top1']:.1f} | "
                f"{results['chance_ident_top1']:.1f} | 50.0 | 25.0 | |")
    return '\n'.join(rows)


def build(name: str, args):
    """The f_A of a method name (``None`` for raw)."""
    import torch  # noqa: F401

    from spact_mm.registry import MODELS

    if name == 'raw':
        return None
    if name == 'learned':
        from spact_mm.apis.inference import init_anonymizer

        return init_anonymizer(args.learned_config, args.learned_checkpoint, 'cpu').anonymizer
    if name == 'spact':  # a whole-frame f_A (e.g. the demo's SPAct UNet): boxes unused
        from spact_mm.apis.inference import init_anonymizer

        f_a = init_anonymizer(args.spact_config, args.spact_checkpoint, 'cpu').anonymizer
        f_a.eval()
        return lambda frames, boxes=None: f_a(frames).clamp(0, 1)
    from spact_mm.models.anonymizers.face import build_face_baseline

    cfg = build_face_baseline(name)
    cfg['detector'] = None  # ground-truth boxes
    return MODELS.build(cfg)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--root', default='data/synthetic-faces', help='face benchmark')
    parser.add_argument('--methods', nargs='+', default=['raw', *BASELINES, 'learned'],
                        help='methods to measure')
    parser.add_argument('--learned-config', default=None, help='config of the learned M')
    parser.add_argument('--learned-checkpoint', default=None, help='its checkpoint')
    parser.add_argument('--spact-config', default=None,
                        help="config of a whole-frame f_A measured as method 'spact' (e.g. "
                        "the demo's SPAct stage 3)")
    parser.add_argument('--spact-checkpoint', default=None, help='its checkpoint')
    parser.add_argument('--out-dir', default='docs/results/face', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of every attacker')
    parser.add_argument('--attacker', choices=['linear', 'cnn'], default='linear',
                        help='identity attackers: scikit-learn on crop pixels (CPU-light) or '
                        'mmpretrain ResNet-18 networks')
    parser.add_argument('--ident-iters', type=int, default=100, help='cnn attacker only')
    parser.add_argument('--action-width', type=int, default=8,
                        help="base channels of the fresh R3D-18 f'_T")
    parser.add_argument('--action-iters', type=int, default=60, help="f'_T iterations")
    parser.add_argument('--append', action='store_true',
                        help='keep the methods already in OUT_DIR/face_results.json (same '
                        'data, seed and settings) and add these')
    parser.add_argument('--haar-recall', action='store_true',
                        help="also measure how often OpenCV's Haar cascade finds the faces")
    parser.add_argument('--progress', action='store_true', help='progress bars')
    args = parser.parse_args(argv)
    if 'learned' in args.methods and not (args.learned_config and args.learned_checkpoint):
        parser.error('the learned method needs --learned-config and --learned-checkpoint')
    if 'spact' in args.methods and not (args.spact_config and args.spact_checkpoint):
        parser.error('the spact method needs --spact-config and --spact-checkpoint')
    from mmengine.registry import init_default_scope

    import spact_mm  # noqa: F401  (registers the modules)

    init_default_scope('spact_mm')
    t0 = time.time()
    train, val = load_face_split(args.root, 'train'), load_face_split(args.root, 'val')
    num_ids = int(max(train.identity.max(), val.identity.max())) + 1
    ident_fit = FitSettings(iters=args.ident_iters, batch_size=64, lr=1e-3, eval_every=25)
    action_fit = FitSettings(iters=args.action_iters, batch_size=16, lr=1e-3, eval_every=20)
    raw_tr = anonymize_split(None, train)
    out = dict(root=args.root, seed=args.seed, train_clips=len(train.clips),
               val_clips=len(val.clips), num_identities=num_ids,
               chance_ident_top1=100. / num_ids,
               settings=dict(attacker=args.attacker, ident_iters=args.ident_iters,
                             action_iters=args.action_iters, action_width=args.action_width,
                             clip='8 frames (interval 2) at 64x64; f\'_T at 32x32',
                             crops='4 face crops per clip (roi_align of GT boxes), 24x24 for '
                             'the linear attackers, 32x32 for the cnn ones'),
               learned=dict(config=args.learned_config, checkpoint=args.learned_checkpoint),
               methods={})
    path = osp.join(args.out_dir, 'face_results.json')
    if args.append and osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        same = ('root', 'seed', 'settings', 'train_clips', 'val_clips')
        if any(old.get(k) != out[k] for k in same):
            parser.error(f'--append: {path} was measured with other data or settings')
        out['methods'] = old['methods']
        out['learned'] = old.get('learned') if 'learned' not in args.methods else out['learned']
        if 'haar_val' in old:  # kept unless --haar-recall measures it again
            out['haar_val'] = old['haar_val']
    embedder = None
    for name in args.methods:
        f_a = build(name, args)
        a_tr, a_val = anonymize_split(f_a, train), anonymize_split(f_a, val)
        if args.attacker == 'cnn':
            res = identity_attacks(a_tr, a_val, raw_tr, train, val, num_ids, ident_fit,
                                   args.seed, args.progress, raw_embedder=embedder)
            embedder = res.pop('_raw_embedder')
            res.pop('chance_top1')
        else:
            res = linear_identity_attacks(a_tr, a_val, raw_tr, train, val, num_ids, args.seed)
        res['action_top1'] = action_attack(a_tr, a_val, train, val, action_fit, args.seed,
                                           progress=args.progress, width=args.action_width)
        res['mean_abs_change'] = float((a_val - val.clips).abs().mean())
        write_examples(a_val, osp.join(args.out_dir, f'examples_{name}.png'))
        out['methods'][name] = {k: round(float(v), 2) if k != 'mean_abs_change'
                                else round(v, 4) for k, v in res.items()}
        print(name, json.dumps(out['methods'][name]), f'{time.time() - t0:.0f} s', flush=True)
    if args.haar_recall:
        out['haar_val'] = detector_recall(args.root, 'val')
        print('Haar cascade on the val faces:', json.dumps(out['haar_val']), flush=True)
    out['seconds'] = round(time.time() - t0, 1)
    os.makedirs(args.out_dir, exist_ok=True)
    _atomic(path, json.dumps(out, indent=1).encode())
    plot(out, osp.join(args.out_dir, 'face_tradeoff.png'))
    print(markdown_table(out))
    print(f'wrote {args.out_dir}/face_results.json and face_tradeoff.png')
    return out


if __name__ == '__main__':
    main()
