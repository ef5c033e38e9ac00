"""The flicker shortcut of f_A: temporal std of its output outside / inside the person box.

For each f_A (a checkpoint or a baseline name) this prints, in grey levels on the privacy
val clips of a protocol config, the temporal standard deviation of the anonymized clip
averaged over the pixels outside and inside the person box (union over the clip's
frames) and the mean absolute frame difference; raw video is ``raw``. These are the
flicker columns of docs/results/screening_remedies.md. Example::

    python tools/analysis_tools/flicker_stats.py raw work_dirs/screen/train/tc-sym/final.pth
"""
import argparse
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('spact_mm') is None:  # run from a checkout, not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

PROTOCOL = 'configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py'


def main(argv=None) -> None:
    """Print the flicker figures of every f_A given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('anonymizers', nargs='+',
                        help='f_A checkpoints (final.pth) or baseline names (raw, ...)')
    parser.add_argument('--config', default=PROTOCOL,
                        help='protocol config whose privacy val clips are measured')
    parser.add_argument('--motion-unet', action='store_true',
                        help='the checkpoints hold a MotionUNetAnonymizer (16 base channels, '
                        '3 stages) rather than the config\'s f_A')
    args = parser.parse_args(argv)

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from spact_mm.evaluation.privacy_audit import (
        _cfg_dict,
        _load_split,
        anonymize_split,
        build_anonymizer,
    )

    init_default_scope('spact_mm')
    cfg = Config.fromfile(args.config)
    ds = _cfg_dict(cfg.privacy.val_dataloader.dataset)
    ds['pipeline'] = _cfg_dict(cfg.action.val_dataloader.dataset)['pipeline']  # whole clips
    ds['test_mode'] = True
    split = _load_split(ds, False, False, False, 'val')
    n, _, t, h, w = split.clips.shape
    inside = torch.zeros(n, t, h, w, dtype=torch.bool)
    for i in range(n):
        for k in range(t):
            x1, y1, x2, y2 = [int(round(float(v))) for v in split.boxes[i, k]]
            inside[i, k, max(0, y1):y2, max(0, x1):x2] = True
    box = inside.any(1)  # union over time, (N, H, W)
    arch = (dict(type='MotionUNetAnonymizer', base_channels=16, num_stages=3)
            if args.motion_unet else cfg.get('anonymizer'))
    for spec in args.anonymizers:
        f_a, _ = build_anonymizer(spec, arch)
        out = anonymize_split(f_a, split) * 255.  # (N, C, T, H, W), grey levels
        std = out.std(2).mean(1)  # temporal std, mean over channels: (N, H, W)
        print(f'{spec:60s} temporal std outside box {std[~box].mean():6.2f}  inside '
              f'{std[box].mean():6.2f}  mean |frame diff| {out.diff(dim=2).abs().mean():6.2f}')


if __name__ == '__main__':
    main()
