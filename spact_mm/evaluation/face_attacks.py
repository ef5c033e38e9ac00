"""Identity attacks on face-anonymized video, and the action a fresh f'_T still recognises.

For the face-centric synthetic benchmark (:mod:`spact_mm.datasets.synthetic.faces`),
each method (raw, the face baselines, the learned M) anonymizes every clip of
the training and validation splits on the ground-truth face boxes; then, all
models trained *fresh* (the audit's threat model, :mod:`~spact_mm.evaluation.attackers`):

- **identification**: an identity classifier trained on anonymized training
  faces, top-1 on anonymized validation faces;
- **verification against a raw gallery**: an identity embedding trained on
  *raw* training faces (the attacker holds un-anonymized photos of everyone);
  anonymized validation faces are probes against the raw training faces:
  top-1 (:func:`reid_scores`) and the equal error rate of genuine / impostor
  cosine scores to each identity's mean gallery embedding (scikit-learn's
  ``roc_curve``; EER where the false accept rate equals the false reject rate);

  two attacker families: :func:`linear_identity_attacks` (scikit-learn on crop
  pixels: PCA + logistic regression, and Fisherfaces for the embedding; light
  enough for shared CPUs) and :func:`identity_attacks` (mmpretrain ResNet-18
  networks, :class:`FeatureClassifier` + :func:`fit_network`);
- **action**: a fresh R3D-18 f'_T (:func:`video_backbone`) trained on the
  anonymized training clips, top-1 on the anonymized validation clips.

Face crops are ``torchvision.ops.roi_align`` crops of the ground-truth boxes.
The hold-out that picks each network's best iteration is carved from the
training split.
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .attackers import (
    FeatureClassifier,
    FitSettings,
    accuracy,
    fit_network,
    frame_backbones,
    normalize,
    predict,
    reid_scores,
    video_backbone,
)


@dataclass
class FaceSplit:
    """Decoded clips of one split: frames, per-frame face boxes, identities, actions."""

    clips: torch.Tensor  # (N, 3, T, H, W) in [0, 1]
    boxes: List[List[List[List[float]]]]  # clip -> frame -> boxes
    identity: np.ndarray  # (N,)
    action: np.ndarray  # (N,)


def load_face_split(root: str, split: str, num_frames: int = 8, frame_interval: int = 2,
                    size: int = 64, limit: Optional[int] = None) -> FaceSplit:
    """Decode ``face_videos_{split}.json`` clips: frames 0, k, 2k, ... resized to ``size``."""
    import cv2

    ann_path = osp.join(root, 'annotations', f'face_videos_{split}.json')
    with open(ann_path) as f:
        ann = json.load(f)
    clips, boxes, ids, acts = [], [], [], []
    for n, e in enumerate(ann['data_list'][:limit], start=1):
        path = osp.join(root, e['filename'])
        cap = cv2.VideoCapture(path)
        frames = []
        while True:
            ok, fr = cap.read()
            if not ok:
                break
            frames.append(fr[..., ::-1])
        cap.release()
        inds = [i * frame_interval for i in range(num_frames)]
        if len(frames) <= inds[-1]:
            raise ValueError(f'{path} ({ann_path}, entry {n}): {len(frames)} frames, need '
                             f'{inds[-1] + 1}')
        h0, w0 = frames[0].shape[:2]
        sx, sy = size / w0, size / h0
        clip = np.stack([cv2.resize(frames[i], (size, size), interpolation=cv2.INTER_AREA)
                         for i in inds])
        clips.append(torch.from_numpy(clip).permute(3, 0, 1, 2).float() / 255.)
        boxes.append([[[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in e['face_boxes'][i]]
                      for i in inds])
        ids.append(int(e['identity']))
        acts.append(int(e['label']))
    return FaceSplit(torch.stack(clips), boxes, np.asarray(ids), np.asarray(acts))


@torch.no_grad()
def anonymize_split(f_a: Optional[Callable], split: FaceSplit, batch: int = 16) -> torch.Tensor:
    """``f_a(frames, boxes=...)`` on every frame of every clip (``None``: raw)."""
    if f_a is None:
        return split.clips.clone()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small per-box ops: OpenMP start-up would dominate
    try:
        return _anonymize_split(f_a, split, batch)
    finally:
        torch.set_num_threads(threads)


def _anonymize_split(f_a: Callable, split: FaceSplit, batch: int) -> torch.Tensor:
    out = torch.empty_like(split.clips)
    n, _, t = split.clips.shape[:3]
    for i in range(0, n, batch):
        clips = split.clips[i:i + batch]
        frames = clips.permute(0, 2, 1, 3, 4).flatten(0, 1)
        boxes = [fb for clip_boxes in split.boxes[i:i + batch] for fb in clip_boxes]
        y = f_a(frames, boxes=boxes)
        out[i:i + batch] = y.reshape(len(clips), t, *y.shape[1:]).permute(0, 2, 1, 3, 4)
    return out


def face_crops(clips: torch.Tensor, split: FaceSplit, per_clip: int = 4, size: int = 32
               ) -> Tuple[torch.Tensor, np.ndarray]:
    """``per_clip`` evenly spaced face crops of every clip and their identities."""
    from torchvision.ops import roi_align

    t = clips.shape[2]
    idx = np.linspace(0, t - 1, per_clip).round().astype(int)
    frames, rois, ids = [], [], []
    for c in range(len(clips)):
        for ti in idx:
            for b in split.boxes[c][ti]:
                rois.append([len(frames), *b])
                ids.append(split.identity[c])
            frames.append(clips[c, :, ti])
    crops = roi_align(torch.stack(frames), torch.tensor(rois, dtype=torch.float32),
                      output_size=size, aligned=True)
    return crops, np.asarray(ids)


def equal_error_rate(scores: np.ndarray, genuine: np.ndarray) -> float:
    """EER (%) of verification scores: where the false accept rate equals the false reject
    rate on scikit-learn's ROC curve, linearly interpolated between the two ROC points
    around the crossing (FRR - FAR is non-increasing along the curve)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(genuine.astype(int), scores)
    d = (1 - tpr) - fpr
    k = int(np.argmax(d <= 0))  # first point at or past the crossing (the last one always is)
    if k == 0:
        return 100. * float(fpr[0] + 1 - tpr[0]) / 2
    w = d[k - 1] / (d[k - 1] - d[k])
    return 100. * float(fpr[k - 1] + w * (fpr[k] - fpr[k - 1]))


def _holdout(n: int, fraction: float, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    k = max(1, int(round(n * fraction)))
    return perm[k:], perm[:k]


def _fit_classifier(backbone: dict, x: torch.Tensor, y: np.ndarray, num: int,
                    settings: FitSettings, seed: int, desc: str, progress: bool):
    tr, ho = _holdout(len(x), 0.15, seed)
    yt = torch.as_tensor(y, dtype=torch.long)
    torch.manual_seed(seed)  # the initialisation must not depend on what ran before
    model = FeatureClassifier(backbone, num)
    model, _, _ = fit_network(model, normalize(x[tr]), yt[tr], F.cross_entropy, accuracy,
                              (normalize(x[ho]), yt[ho]), settings, seed, desc, progress)
    return model


def identity_attacks(anon_tr: torch.Tensor, anon_val: torch.Tensor, raw_tr: torch.Tensor,
                     train: FaceSplit, val: FaceSplit, num_ids: int, settings: FitSettings,
                     seed: int = 0, progress: bool = False,
                     raw_embedder: Optional[torch.nn.Module] = None) -> Dict[str, float]:
    """Identification top-1 (fresh classifier) and verification vs a raw gallery (top-1, EER).

    Returns ``dict(ident_top1, verif_top1, verif_eer, chance_top1)`` in percent, and the raw
    embedding model under ``'_raw_embedder'`` (reuse it for the other methods).
    """
    backbone = frame_backbones()['resnet18']
    xtr, ytr = face_crops(anon_tr, train)
    xva, yva = face_crops(anon_val, val)
    clf = _fit_classifier(backbone, xtr, ytr, num_ids, settings, seed, 'identity', progress)
    ident = 100. * accuracy(predict(clf, normalize(xva)), torch.as_tensor(yva))
    gtr, gid = face_crops(raw_tr, train)
    if raw_embedder is None:
        raw_embedder = _fit_classifier(backbone, gtr, gid, num_ids, settings, seed,
                                       'raw gallery embedding', progress)

    def feats(x):
        with torch.no_grad():
            raw_embedder.eval()
            return torch.cat([raw_embedder.features(normalize(x[i:i + 128]))
                              for i in range(0, len(x), 128)]).numpy()

    q, g = feats(xva), feats(gtr)
    reid = reid_scores(q, yva, g, gid)
    eer = _centroid_eer(q, yva, g, gid)
    return dict(ident_top1=ident, verif_top1=reid['top1'], verif_eer=eer,
                chance_top1=100. / num_ids, _raw_embedder=raw_embedder)


def linear_identity_attacks(anon_tr: torch.Tensor, anon_val: torch.Tensor,
                            raw_tr: torch.Tensor, train: FaceSplit, val: FaceSplit,
                            num_ids: int, seed: int = 0, crop: int = 24,
                            c_grid: Tuple[float, ...] = (0.01, 0.1, 1.0)) -> Dict[str, float]:
    """The CPU-light identity attacks: scikit-learn models on face-crop pixels.

    - identification: ``StandardScaler -> PCA(100) -> LogisticRegression`` trained on the
      anonymized training faces (C chosen on a hold-out of the training split), top-1 on the
      anonymized validation faces;
    - verification against a raw gallery: ``StandardScaler -> PCA(100) ->
      LinearDiscriminantAnalysis`` fitted on the *raw* training faces (Fisherfaces), raw
      training faces as the gallery, anonymized validation faces as probes: top-1 and EER as
      in :func:`identity_attacks`.

    Returns:
        ``dict(ident_top1, verif_top1, verif_eer)`` in percent.
    """
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def flat(x):
        return x.flatten(1).numpy().astype(np.float64)

    xtr, ytr = face_crops(anon_tr, train, size=crop)
    xva, yva = face_crops(anon_val, val, size=crop)
    gtr, gid = face_crops(raw_tr, train, size=crop)
    xtr, xva, gtr = flat(xtr), flat(xva), flat(gtr)
    tr, ho = _holdout(len(xtr), 0.15, seed)
    k = min(100, len(tr) - 1, xtr.shape[1])  # PCA(100), fewer on tiny data
    best, best_acc = None, -1.0
    for c in c_grid:
        clf = make_pipeline(StandardScaler(), PCA(k, random_state=seed),
                            LogisticRegression(C=c, max_iter=500, random_state=seed))
        clf.fit(xtr[tr], ytr[tr])
        acc = float((clf.predict(xtr[ho]) == ytr[ho]).mean())
        if acc > best_acc:
            best, best_acc = c, acc
    clf = make_pipeline(StandardScaler(), PCA(k, random_state=seed),
                        LogisticRegression(C=best, max_iter=500, random_state=seed))
    clf.fit(xtr, ytr)
    ident = 100. * float((clf.predict(xva) == yva).mean())
    emb = make_pipeline(StandardScaler(), PCA(k, random_state=seed),
                        LinearDiscriminantAnalysis()).fit(gtr, gid)
    q, g = emb.transform(xva), emb.transform(gtr)
    reid = reid_scores(q, yva, g, gid)
    return dict(ident_top1=ident, verif_top1=reid['top1'],
                verif_eer=_centroid_eer(q, yva, g, gid))


def _centroid_eer(q: np.ndarray, q_ids: np.ndarray, g: np.ndarray, g_ids: np.ndarray) -> float:
    """EER (%) of cosine scores between each probe and each identity's mean gallery feature."""
    ids = np.unique(g_ids)
    cent = np.stack([g[g_ids == i].mean(0) for i in ids])
    qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    cn = cent / np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    genuine = q_ids[:, None] == ids[None, :]
    return equal_error_rate((qn @ cn.T).ravel(), genuine.ravel())


def action_attack(anon_tr: torch.Tensor, anon_val: torch.Tensor, train: FaceSplit,
                  val: FaceSplit, settings: FitSettings, seed: int = 0, size: int = 32,
                  progress: bool = False, width: int = 16) -> float:
    """Top-1 (%) of a fresh R3D-18 f'_T trained on the anonymized training clips.

    The clips are resized to ``size`` (area) to keep the CPU cost of the demo low.
    """
    def small(x):
        n, c, t, h, w = x.shape
        y = F.interpolate(x.permute(0, 2, 1, 3, 4).flatten(0, 1), size=(size, size),
                          mode='area')
        return y.reshape(n, t, c, size, size).permute(0, 2, 1, 3, 4).contiguous()

    num = int(max(train.action.max(), val.action.max())) + 1
    model = _fit_classifier(video_backbone(width), small(anon_tr), train.action, num, settings,
                            seed, "f'_T", progress)
    return 100. * accuracy(predict(model, normalize(small(anon_val))),
                           torch.as_tensor(val.action))


def detector_recall(root: str, split: str = 'val', every: int = 4, iou_thr: float = 0.3,
                    detector: Optional[dict] = None, max_gap: int = 2) -> Dict[str, float]:
    """How often a face detector finds the ground-truth face of the synthetic clips.

    Every ``every``-th clip of the split, all frames at the stored resolution. A frame counts
    as found when a detected (``expand`` 1.2) box overlaps the ground-truth box with IoU
    above ``iou_thr``; ``with_tracking`` counts the boxes a :class:`FaceTracker` adds.

    Returns:
        ``dict(frames, recall, recall_with_tracking, false_positives)`` (recalls in %).
    """
    import cv2

    from spact_mm.models.anonymizers.face import FaceTracker, box_iou, expand_box
    from spact_mm.registry import MODELS

    det = MODELS.build(detector or dict(type='HaarFaceDetector'))
    with open(osp.join(root, 'annotations', f'face_videos_{split}.json')) as f:
        ann = json.load(f)
    frames = found = tracked = false_pos = 0
    for e in ann['data_list'][::every]:
        cap = cv2.VideoCapture(osp.join(root, e['filename']))
        tracker = FaceTracker(max_gap=max_gap)
        t = 0
        while True:
            ok, fr = cap.read()
            if not ok:
                break
            gt = e['face_boxes'][t][0]
            t += 1
            boxes = [expand_box(b, 1.2) for b in det(np.ascontiguousarray(fr[..., ::-1]))]
            used = tracker.update(boxes)
            frames += 1
            found += any(box_iou(b, gt) > iou_thr for b in boxes)
            tracked += any(box_iou(b, gt) > iou_thr for b in used)
            false_pos += sum(box_iou(b, gt) <= iou_thr for b in boxes)
        cap.release()
    return dict(frames=frames, recall=100. * found / max(frames, 1),
                recall_with_tracking=100. * tracked / max(frames, 1),
                false_positives=int(false_pos))
