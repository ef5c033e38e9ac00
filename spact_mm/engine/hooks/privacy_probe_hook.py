"""A training-time privacy signal that the co-trained f_B cannot game: a fresh probe.

The co-trained privacy branch's L_B near chance does not mean private
information is gone: on the demo's synthetic data, f_A learned to fool its one
f_B (L_B 2.6-2.8 against a chance level of 3.43) while freshly trained
attackers recovered every attribute as well as on raw video (issue 11). This
hook measures instead: at every validation it anonymizes held-out clips with
the current f_A, trains *fresh* probes (scikit-learn logistic regression on
pixels and on colour histograms, optionally the audit's ResNet-18) on one part
and tests them on the other, and logs the worst case over probes as
``privacy/probe_cmap`` (lower is more private). ``CheckpointHook(save_best=
'privacy/probe_cmap', rule='less')`` then keeps the most private checkpoint.

The probes are the privacy audit's (:mod:`spact_mm.evaluation.attackers`),
smaller; the full audit (``tools/privacy_audit.py``) remains the measure to
report.
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook

from spact_mm.registry import HOOKS


@HOOKS.register_module()
class PrivacyProbeHook(Hook):
    """Train fresh privacy probes on f_A's output at every validation.

    Args:
        train_dataset: Dataset config of privacy-labelled clips the probes are
            trained on (e.g. ``PrivacyVideoDataset`` with a clip pipeline).
        val_dataset: Dataset config the probes are tested on; ``None`` splits
            ``train_dataset`` in two halves (seeded).
        attributes: Attribute names the probe cMAP averages over (``None``:
            all attributes of the dataset).
        probes: Any of ``'logreg-pixels'``, ``'logreg-colour-hist'``,
            ``'resnet18'``; the per-attribute maximum over them is logged.
        frames_per_clip: Frames of each clip used as probe samples.
        max_clips: At most this many clips of each split (the first ones).
        key: Name of the logged metric.
        seed: Seed of the split and the probes.
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL) and CheckpointHook (VERY_LOW)

    def __init__(self, train_dataset: dict, val_dataset: Optional[dict] = None,
                 attributes: Optional[Sequence[str]] = None,
                 probes: Sequence[str] = ('logreg-pixels', 'logreg-colour-hist'),
                 frames_per_clip: int = 2, max_clips: int = 256,
                 key: str = 'privacy/probe_cmap', seed: int = 0) -> None:
        unknown = set(probes) - {'logreg-pixels', 'logreg-colour-hist', 'resnet18'}
        if unknown or not probes:
            raise ValueError(f'unknown probes {sorted(unknown)}; choose from logreg-pixels, '
                             'logreg-colour-hist, resnet18')
        self.train_dataset = train_dataset
        self.val_dataset = val_dataset
        self.attributes = None if attributes is None else list(attributes)
        self.probes = tuple(probes)
        self.frames_per_clip = frames_per_clip
        self.max_clips = max_clips
        self.key = key
        self.seed = seed
        self._data = None

    def _load(self):
        from spact_mm.evaluation.privacy_audit import _load_split, dataset_metainfo

        def load(cfg):
            split = _load_split(dict(cfg), False, False, False, 'probe data')
            return split.subset(np.arange(min(self.max_clips, len(split.clips))))

        train = load(self.train_dataset)
        if self.val_dataset is None:
            perm = np.random.default_rng([self.seed, 31]).permutation(len(train.clips))
            half = len(perm) // 2
            train, val = train.subset(np.sort(perm[:half])), train.subset(np.sort(perm[half:]))
        else:
            val = load(self.val_dataset)
        classes = list(dataset_metainfo(self.train_dataset)['classes'])
        names = self.attributes or classes
        missing = [a for a in names if a not in classes]
        if missing:
            raise KeyError(f'PrivacyProbeHook: attributes {missing} are not in {classes}')
        self._data = (train, val, [classes.index(a) for a in names])

    def probe_cmap(self, anonymizer: torch.nn.Module) -> Dict[str, float]:
        """Worst-case probe cMAP (%) on ``anonymizer``'s output, and each probe's."""
        from spact_mm.evaluation import attackers as atk
        from spact_mm.evaluation.privacy_audit import _frames, anonymize_split

        if self._data is None:
            self._load()
        train, val, cols = self._data
        was_training = anonymizer.training
        anonymizer.eval()
        try:
            a_tr, a_val = anonymize_split(anonymizer, train), anonymize_split(anonymizer, val)
        finally:
            anonymizer.train(was_training)
        fr_tr, own_tr = _frames(a_tr, self.frames_per_clip)
        fr_val, own_val = _frames(a_val, self.frames_per_clip)
        y_tr, y_val = train.attrs[own_tr][:, cols], val.attrs[own_val][:, cols]
        rng = np.random.default_rng([self.seed, 37])
        clips = rng.permutation(len(train.clips))
        hold = np.isin(own_tr, clips[:max(1, len(clips) // 5)])
        fit = ~hold
        per_probe: Dict[str, np.ndarray] = {}
        feats = {'logreg-pixels': lambda f: f.flatten(1).numpy(),
                 'logreg-colour-hist': atk.colour_histogram}
        for name in self.probes:
            if name in feats:
                f_tr, f_val = feats[name](fr_tr), feats[name](fr_val)
                scores = atk.logistic_probe(f_tr[fit], y_tr[fit], f_tr[hold], y_tr[hold], f_val,
                                            c_grid=(0.1, 1.0), seed=self.seed)
            else:
                x_tr, x_val = atk.normalize(fr_tr), atk.normalize(fr_val)
                yt = torch.as_tensor(y_tr)
                model = atk.train_attribute_network(
                    atk.frame_backbones()['resnet18'], x_tr[fit], yt[fit], (x_tr[hold], yt[hold]),
                    atk.FitSettings(100, 64), self.seed, 'probe resnet18', False)
                scores = atk.attribute_scores(model, x_val)
            per_probe[name] = atk.classwise_average_precision(scores, y_val)
        worst = atk.worst_case(per_probe, dict(all=list(range(len(cols)))))['all']['cmap']
        out = {self.key: worst}
        out.update({f'{self.key}/{n}': float(np.nanmean(v) * 100.) for n, v in per_probe.items()})
        return out

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Compute the probe cMAP and add it to ``metrics`` and the message hub."""
        from mmengine.model import is_model_wrapper

        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        anonymizer = getattr(getattr(model, 'data_preprocessor', None), 'anonymizer', None)
        if anonymizer is None:
            raise AttributeError('PrivacyProbeHook needs a model whose data_preprocessor has an '
                                 '`anonymizer` (AnonymizerDataPreprocessor)')
        results = self.probe_cmap(anonymizer)
        for key, value in results.items():
            runner.message_hub.update_scalar(f'val/{key}', value)
            if metrics is not None:
                metrics[key] = value
        runner.logger.info(f'{self.key}: {results[self.key]:.2f} (fresh probes on f_A output; '
                           'lower is more private)')

