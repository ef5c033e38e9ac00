"""Fresh attackers of the privacy audit: they learn private information from f_A's output.

Every attacker here is trained from scratch on anonymized training data and
tested on anonymized validation data (the threat model of Sec. 4: privacy is
measured by *fresh* models, never by the co-trained f_B). The networks are
stock mmpretrain / mmaction2 backbones built from the registry; the probes are
scikit-learn estimators. Hyper-parameters (the training length of the
networks, the regularisation of the probes and of the ridge inversion) are
chosen on a hold-out part carved from the training split, never on the
validation split.

The data are held in memory as tensors (anonymized once, then reused by
every attacker), so the networks are trained by :func:`fit_network`, a short
Adam loop, instead of an mmengine ``Runner`` per attacker: a Runner would
decode and anonymize every video again at every epoch, which dominates on a
CPU. The loop is hand-written for that reason only.
"""
import copy
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from spact_mm.evaluation.privacy_metrics import classwise_average_precision

#: ImageNet mean / std (RGB, 0-255) used by every config of this toolbox.
IMG_MEAN = (123.675, 116.28, 103.53)
IMG_STD = (58.395, 57.12, 57.375)


def normalize(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] RGB tensor with channels at dim 1 -> ImageNet-normalised float tensor."""
    shape = (1, 3) + (1, ) * (x.dim() - 2)
    mean = torch.tensor(IMG_MEAN, dtype=torch.float32).view(shape) / 255.
    std = torch.tensor(IMG_STD, dtype=torch.float32).view(shape) / 255.
    return (x.float() - mean) / std


# ----------------------------------------------------------------------------
# Networks built from the registries
# ----------------------------------------------------------------------------
class FeatureClassifier(nn.Module):
    """A registry backbone, global average pooling and one linear layer.

    Args:
        backbone: Backbone config (e.g. ``dict(type='mmpretrain.ResNet', ...)``
            or mmaction2's ``ResNet3d``); its last output is pooled.
        num_outputs: Width of the linear layer (attributes, classes, or
            identities).
    """

    def __init__(self, backbone: dict, num_outputs: int) -> None:
        super().__init__()
        from spact_mm.registry import MODELS

        # PyTorch's default initialisation (no ``init_weights``: it only logs here)
        self.backbone = MODELS.build(copy.deepcopy(backbone))
        self.fc = nn.LazyLinear(num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features of the backbone's last stage."""
        out = self.backbone(x)
        out = out[-1] if isinstance(out, (tuple, list)) else out
        return out.flatten(2).mean(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.fc(self.features(x))


def frame_backbones(width: int = 16) -> Dict[str, dict]:
    """The 2D attacker architectures: two families (residual and inverted-residual)."""
    return {
        'resnet18': dict(type='mmpretrain.ResNet', depth=18, base_channels=width,
                         stem_channels=width),
        # stride-16 output (stage 5): at 32 px the last, stride-32 stage is 1 x 1
        'mobilenetv2': dict(type='mmpretrain.MobileNetV2', widen_factor=0.5, out_indices=(5, )),
    }


def video_backbone(width: int = 16) -> dict:
    """The 3D attacker: mmaction2's R3D-18 (as the protocol's f'_T) at ``width`` channels."""
    return dict(type='ResNet3d', depth=18, pretrained=None, pretrained2d=False,
                base_channels=width, conv1_kernel=(3, 7, 7), conv1_stride_t=1,
                pool1_stride_t=1, inflate=(1, 1, 1, 1), norm_eval=False)


# ----------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------
@dataclass
class FitSettings:
    """Length and batch of one network's training; the hold-out picks the best state.

    Attributes:
        iters: Adam iterations.
        batch_size: Samples per iteration.
        lr: Adam learning rate.
        eval_every: Evaluate on the hold-out every this many iterations; the
            state with the best hold-out score is returned.
    """

    iters: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    eval_every: int = 50


def _batched(model: nn.Module, x: torch.Tensor, fn: Callable, batch_size: int = 128
             ) -> torch.Tensor:
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            outs.append(fn(model, x[i:i + batch_size]))
    return torch.cat(outs)


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Model outputs on ``x`` in eval mode, in batches, without autograd."""
    was_training = model.training
    model.eval()
    try:
        return _batched(model, x, lambda m, b: m(b), batch_size)
    finally:
        model.train(was_training)


def fit_network(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable,
                score_fn: Callable, holdout: Tuple[torch.Tensor, torch.Tensor],
                settings: FitSettings, seed: int, desc: str = '', progress: bool = True
                ) -> Tuple[nn.Module, float, int]:
    """Train ``model`` with Adam on ``(x, y)``; return its best state on the hold-out.

    Args:
        model: The network (its lazy layers are initialised on the first batch).
        x, y: Training inputs and targets (tensors with the samples on dim 0).
        loss_fn: ``loss_fn(outputs, targets) -> scalar``.
        score_fn: ``score_fn(outputs, targets) -> float``, higher is better.
        holdout: Inputs and targets of the hold-out carved from the training split.
        settings: Training length and batch.
        seed: Seed of the initialisation and of the batch order.
        desc: Name on the progress bar.
        progress: Show a tqdm bar.

    Returns:
        ``(model at its best hold-out state, best hold-out score, its iteration)``.
    """
    from tqdm import tqdm

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    with torch.no_grad():
        model(x[:2])  # materialise lazy layers before the optimiser sees them
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    best_score, best_iter, best_state = -np.inf, 0, copy.deepcopy(model.state_dict())
    n = len(x)
    bar = tqdm(range(1, settings.iters + 1), desc=desc, leave=False, dynamic_ncols=True,
               disable=not progress)
    perm, pos = torch.randperm(n, generator=gen), 0
    model.train()
    for it in bar:
        if pos + settings.batch_size > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos:pos + settings.batch_size]
        pos += settings.batch_size
        loss = loss_fn(model(x[idx]), y[idx])
        if not torch.isfinite(loss):
            raise FloatingPointError(f'{desc}: non-finite training loss at iteration {it}')
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % settings.eval_every == 0 or it == settings.iters:
            score = float(score_fn(predict(model, holdout[0]), holdout[1]))
            if score > best_score:
                best_score, best_iter = score, it
                best_state = copy.deepcopy(model.state_dict())
            bar.set_postfix(loss=f'{loss.item():.3f}', holdout=f'{score:.3f}')
            model.train()
    model.load_state_dict(best_state)
    model.eval()
    return model, best_score, best_iter


def multilabel_bce(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross entropy of multi-label attribute logits (the attackers' loss)."""
    return F.binary_cross_entropy_with_logits(outputs, targets.float())


def mean_ap(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean over attributes of the AP (NaN attributes ignored), in [0, 1]."""
    ap = classwise_average_precision(torch.sigmoid(outputs), targets)
    return float(np.nanmean(ap)) if not np.isnan(ap).all() else 0.0


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Top-1 accuracy of class logits, in [0, 1]."""
    return float((outputs.argmax(1) == targets).float().mean())


# ----------------------------------------------------------------------------
# Attribute attackers
# ----------------------------------------------------------------------------
def train_attribute_network(backbone: dict, x: torch.Tensor, y: torch.Tensor,
                            holdout: Tuple[torch.Tensor, torch.Tensor],
                            settings: FitSettings, seed: int, desc: str,
                            progress: bool = True) -> nn.Module:
    """A fresh multi-label attacker (backbone + linear, BCE) trained on normalised ``x``."""
    torch.manual_seed(seed)  # the initialisation, too, is the seed's
    model = FeatureClassifier(backbone, y.shape[1])
    model, _, _ = fit_network(model, x, y, multilabel_bce, mean_ap, holdout, settings, seed,
                              desc, progress)
    return model


def attribute_scores(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Attribute probabilities of ``model`` on ``x`` (N, A)."""
    return torch.sigmoid(predict(model, x)).numpy()


def colour_histogram(frames: torch.Tensor, bins: int = 4) -> np.ndarray:
    """Joint RGB histogram of each frame, normalised to sum 1.

    Args:
        frames: (N, 3, H, W) in [0, 1].
        bins: Bins per channel; the histogram has ``bins ** 3`` cells.

    Returns:
        (N, bins ** 3) float64 array.
    """
    q = (frames.clamp(0, 1) * bins).long().clamp(max=bins - 1)
    cell = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
    flat = cell.flatten(1)
    hist = torch.zeros(len(frames), bins ** 3, dtype=torch.float64)
    hist.scatter_add_(1, flat, torch.ones_like(flat, dtype=torch.float64))
    return (hist / flat.shape[1]).numpy()


def logistic_probe(train_x: np.ndarray, train_y: np.ndarray, hold_x: np.ndarray,
                   hold_y: np.ndarray, test_x: np.ndarray,
                   c_grid: Sequence[float] = (0.01, 0.1, 1.0), seed: int = 0) -> np.ndarray:
    """Logistic regression per attribute (scikit-learn), C chosen on the hold-out.

    Args:
        train_x, train_y: Features (N, D) and multi-hot labels (N, A).
        hold_x, hold_y: The hold-out carved from the training split.
        test_x: Features of the validation split.
        c_grid: Inverse regularisation strengths tried.
        seed: Seed of the solver.

    Returns:
        Attribute probabilities on ``test_x``, shape (M, A).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = np.zeros((len(test_x), train_y.shape[1]))
    for a in range(train_y.shape[1]):
        if len(np.unique(train_y[:, a])) < 2:
            out[:, a] = train_y[0, a]
            continue
        best, best_ap = None, -np.inf
        for c in c_grid:
            clf = make_pipeline(StandardScaler(),
                                LogisticRegression(C=c, max_iter=300, random_state=seed))
            clf.fit(train_x, train_y[:, a])
            ap = classwise_average_precision(clf.predict_proba(hold_x)[:, 1:],
                                             hold_y[:, a:a + 1])[0]
            if np.isnan(ap):  # no positive in the hold-out: any C will do
                ap = 0.0
            if ap > best_ap:
                best, best_ap = clf, ap
        out[:, a] = best.predict_proba(test_x)[:, 1]
    return out


# ----------------------------------------------------------------------------
# Inversion
# ----------------------------------------------------------------------------
def psnr(x: np.ndarray, y: np.ndarray) -> float:
    """Mean PSNR (dB) over images of two (N, ...) arrays in [0, 1]."""
    mse = ((x.astype(np.float64) - y.astype(np.float64)) ** 2).reshape(len(x), -1).mean(1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-10))))


def ssim(x: np.ndarray, y: np.ndarray) -> float:
    """Mean SSIM (scikit-image, Wang et al. 2004) over (N, 3, H, W) images in [0, 1]."""
    from skimage.metrics import structural_similarity

    win = min(7, x.shape[-1], x.shape[-2])
    win -= (win + 1) % 2  # odd
    return float(np.mean([
        structural_similarity(a.transpose(1, 2, 0), b.transpose(1, 2, 0), data_range=1.0,
                              channel_axis=-1, win_size=win)
        for a, b in zip(x.astype(np.float64), y.astype(np.float64))]))


def _patches(frames: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H, W) -> (N * H * W, C * k * k): the k x k neighbourhood of every pixel."""
    t = torch.as_tensor(frames, dtype=torch.float64)
    cols = F.unfold(F.pad(t, [k // 2] * 4, mode='replicate'), k)  # (N, C*k*k, H*W)
    return cols.permute(0, 2, 1).reshape(-1, cols.shape[1]).numpy()


def _pixels(frames: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N * H * W, C)."""
    return frames.transpose(0, 2, 3, 1).reshape(-1, frames.shape[1]).astype(np.float64)


def ridge_inversion(train_in: np.ndarray, train_out: np.ndarray, hold_in: np.ndarray,
                    hold_out: np.ndarray, patch: int = 5,
                    alphas: Sequence[float] = (1e-3, 1e-1, 1e1)
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """A linear (ridge) inversion f_A(x) -> x, shared over positions; alpha by hold-out PSNR.

    Every output pixel is a linear function (plus bias) of the ``patch x patch``
    neighbourhood of the anonymized frame at the same position: a linear
    convolution fitted by ridge regression (scikit-learn) on all pixels of
    the training frames. Sharing the map over positions gives it
    ``H * W`` samples per frame, so it recovers the identity exactly from a
    few frames, which a dense pixels-to-pixels map could not.

    Args:
        train_in, train_out: Anonymized and raw frames (N, C, H, W) in [0, 1].
        hold_in, hold_out: The hold-out carved from the training split.
        patch: Odd neighbourhood size.
        alphas: Ridge strengths tried.

    Returns:
        A function mapping anonymized frames (M, C, H, W) to reconstructions in [0, 1].
    """
    from sklearn.linear_model import Ridge

    xs, ys = _patches(train_in, patch), _pixels(train_out)
    xh = _patches(hold_in, patch)
    best, best_psnr = None, -np.inf
    for alpha in alphas:
        reg = Ridge(alpha=alpha).fit(xs, ys)
        score = psnr(_unpixels(reg.predict(xh), hold_out.shape), hold_out)
        if score > best_psnr:
            best, best_psnr = reg, score

    def invert(frames: np.ndarray) -> np.ndarray:
        out_shape = (len(frames), train_out.shape[1]) + frames.shape[2:]
        return _unpixels(best.predict(_patches(frames, patch)), out_shape)

    return invert


def _unpixels(pixels: np.ndarray, shape: Tuple[int, ...]) -> np.ndarray:
    n, c, h, w = shape
    return np.clip(pixels.reshape(n, h, w, c).transpose(0, 3, 1, 2), 0, 1)


class ResidualInverter(nn.Module):
    """``x_hat = y + 2 (g(y) - 1/2)`` with g this toolbox's UNet (sigmoid output).

    Starts at the identity (g's last 1x1 convolution is zero, so g(y) = 1/2),
    the natural first guess of an attacker, and can learn any correction in
    (-1, 1). Clamped to [0, 1] in eval mode.
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        from spact_mm.registry import MODELS

        self.net = MODELS.build(dict(type='UNetAnonymizer', base_channels=width, num_stages=3))
        nn.init.zeros_(self.net.out_conv.weight)
        nn.init.zeros_(self.net.out_conv.bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:  # noqa: D102
        out = y + 2 * (self.net(y) - 0.5)
        return out if self.training else out.clamp(0, 1)


def conv_inversion(train_in: torch.Tensor, train_out: torch.Tensor,
                   holdout: Tuple[torch.Tensor, torch.Tensor], settings: FitSettings,
                   seed: int, width: int = 16, progress: bool = True) -> nn.Module:
    """A small conv net (:class:`ResidualInverter`) learning x from f_A(x) with an L2 loss.

    Returns:
        The trained network, mapping [0, 1] frames (N, 3, H, W) to [0, 1] frames;
        its training length is chosen by hold-out MSE.
    """
    def neg_mse(out, target):
        return -float(F.mse_loss(out, target))

    torch.manual_seed(seed)
    net, _, _ = fit_network(ResidualInverter(width), train_in, train_out, F.mse_loss, neg_mse,
                            holdout, settings, seed, 'inversion (conv)', progress)
    return net


# ----------------------------------------------------------------------------
# Re-identification
# ----------------------------------------------------------------------------
def reid_scores(query: np.ndarray, query_ids: np.ndarray, gallery: np.ndarray,
                gallery_ids: np.ndarray) -> Dict[str, float]:
    """Rank-1 accuracy and mAP (%) of cosine-similarity retrieval.

    Every query's positives are the gallery items of its identity; queries
    without a positive in the gallery are skipped.

    Args:
        query: (Q, D) features; query_ids: (Q,) identities.
        gallery: (G, D) features; gallery_ids: (G,) identities.

    Returns:
        ``{'top1': ..., 'map': ..., 'chance_top1': ...}`` in percent.
    """
    from sklearn.metrics import average_precision_score

    def unit(v):
        v = v.astype(np.float64)
        v = v - v.mean(0, keepdims=True) if len(v) > 1 else v
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    both = unit(np.concatenate([query, gallery]))  # centre both with one mean
    q, g = both[:len(query)], both[len(query):]
    sim = q @ g.T
    top1, aps, chance = [], [], []
    for i in range(len(q)):
        pos = gallery_ids == query_ids[i]
        if not pos.any():
            continue
        top1.append(float(pos[int(np.argmax(sim[i]))]))
        aps.append(average_precision_score(pos, sim[i]))
        chance.append(pos.mean())
    if not top1:
        raise ValueError('no query has a positive in the gallery')
    return dict(top1=100. * float(np.mean(top1)), map=100. * float(np.mean(aps)),
                chance_top1=100. * float(np.mean(chance)))


def worst_case(per_attacker_ap: Dict[str, np.ndarray], groups: Dict[str, List[int]]
               ) -> Dict[str, dict]:
    """Worst case over attackers: per attribute the maximum AP, then cMAP per group.

    Args:
        per_attacker_ap: ``{attacker: AP per attribute (A,), in [0, 1], NaN if undefined}``.
        groups: ``{group: attribute indices}`` (e.g. person, scene).

    Returns:
        ``{group: {'cmap': percent, 'per_attribute': [...], 'argmax': [attacker per
        attribute]}}``.
    """
    names = list(per_attacker_ap)
    if not names:
        raise ValueError('no attacker scores')
    stack = np.stack([np.asarray(per_attacker_ap[k], np.float64) for k in names])
    filled = np.where(np.isnan(stack), -np.inf, stack)
    best = filled.max(0)
    arg = filled.argmax(0)
    best = np.where(np.isinf(best), np.nan, best)
    out = {}
    for group, idx in groups.items():
        vals = best[idx]
        out[group] = dict(
            cmap=float(np.nanmean(vals) * 100.) if not np.isnan(vals).all() else float('nan'),
            per_attribute=[float(v * 100.) for v in vals],
            argmax=[names[int(arg[i])] for i in idx])
    return out
