"""Speed and memory of the minimax iteration, of inference and of data loading.

The module behind ``tools/analysis_tools/benchmark_minimax.py`` and
``tools/analysis_tools/benchmark_dataloader.py`` (figures in docs/benchmark.md);
it ships with the tools (``spact_mm/.mim/tools`` in an installed package), not in
the library.

The *reference loop* reproduces the structure of the authors' released
training code: every iteration runs f_A, f_T and f_B with full autograd, so
step 1 (Eq. 9, ``L_T - w L_B``) also builds the weight gradients of f_T and f_B
and throws them away, and step 2 (Eq. 7, 8) records f_A's graph although f_A
is not updated. *Ours* is mmengine's ``train_step`` with
:class:`MinimaxOptimWrapper`: one backward of ``L_T + L_B`` with the frozen
branches' ``requires_grad`` off and gradient reversal for the minus sign. Both
loops start from the same weights, see the same batches and random draws
(frame pairs, dropout), so their losses must agree to float precision.
"""
import copy
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config

from spact_mm.apis.demo import config_dir
from spact_mm.testing import random_batch

#: name -> (model config under ``configs/``, clip length, image size, batch size)
SCALES = {
    'demo': ('configs/_base_/models/spact_tiny.py', 8, 32, 16),
    'paper': ('configs/_base_/models/spact_r3d18_unet_r50.py', 16, 112, 8),
}


def scale_model_cfg(scale: str) -> dict:
    """The model config of a benchmark scale (``'demo'`` or ``'paper'``)."""
    # config_dir(): the checkout's configs/, or the installed package's .mim/configs
    cfg = Config.fromfile(str(config_dir().parent / SCALES[scale][0]))
    return copy.deepcopy(cfg.model.to_dict())


# ----------------------------------------------------------------- memory
def _proc_status_kb(key: str) -> int:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(key + ':'):
            return int(line.split()[1])
    return -1


@contextmanager
def peak_memory(device: torch.device) -> Iterator[Dict[str, float]]:
    """Measure the peak memory added by the block, in MiB.

    CUDA: ``torch.cuda.max_memory_allocated`` above the allocation at entry.
    CPU: the process's peak resident set (``VmHWM``, reset through
    ``/proc/self/clear_refs``) above its resident set at entry; this counts
    every allocation of the block (autograd graph, gradients), not only
    tensors, and is -1 where /proc is not available.
    """
    out: Dict[str, float] = {}
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        yield out
        torch.cuda.synchronize(device)
        out['peak_mib'] = (torch.cuda.max_memory_allocated(device) - base) / 2**20
        return
    try:
        Path('/proc/self/clear_refs').write_text('5')  # reset VmHWM to the current RSS
        base = _proc_status_kb('VmRSS')
    except OSError:
        base = -1
    yield out
    out['peak_mib'] = (_proc_status_kb('VmHWM') - base) / 1024 if base >= 0 else -1.


# ------------------------------------------------------------ the two loops
def to_channels_last(model: nn.Module) -> nn.Module:
    """Channels-last weights for 2D and 3D convolutions (as ``channels_last=True``)."""
    from spact_mm.engine.optimizers import MinimaxOptimWrapper

    MinimaxOptimWrapper._to_channels_last(
        MinimaxOptimWrapper.__new__(MinimaxOptimWrapper), model)
    return model


def build_ours(model: nn.Module, ssl_weight: float, lr: float, amp: bool,
               channels_last: bool, frozen_branches_eval: bool = False):
    """Our minimax optim wrapper (Adam per branch) for ``model``."""
    from spact_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS

    cfg = dict(type='MinimaxOptimWrapper', ssl_weight=ssl_weight, channels_last=channels_last,
               frozen_branches_eval=frozen_branches_eval)
    for b in ('anonymizer', 'recognizer', 'privacy'):
        cfg[b] = dict(type='AmpOptimWrapper' if amp else 'OptimWrapper',
                      optimizer=dict(type='Adam', lr=lr))
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=cfg))(model)


class ReferenceLoop:
    """The released code's structure: full autograd through all three nets.

    Args:
        model: An :class:`SPActRecognizer` (its gradient reversal layer is
            replaced by the identity; the minus sign is written out).
        ssl_weight: omega of Eq. 9.
        lr: Adam learning rate of every branch.
        amp: Autocast + one ``GradScaler`` (CUDA only).
        frozen_branches_eval: As the released code: ``eval()`` on the networks
            a step does not update (step 1: f_T, f_B; step 2: f_A).
    """

    def __init__(self, model: nn.Module, ssl_weight: float, lr: float, amp: bool,
                 frozen_branches_eval: bool = False) -> None:
        from spact_mm.engine.optimizers.minimax_constructor import DEFAULT_BRANCH_MODULES, _get

        self.model = model
        model.privacy_head.grad_reverse = nn.Identity()
        model.requires_grad_(True)
        self.w = ssl_weight
        self.opt = {}
        self.modules = {}
        for b, paths in DEFAULT_BRANCH_MODULES.items():
            self.modules[b] = [m for path in paths if (m := _get(model, path)) is not None]
            params = [p for m in self.modules[b] for p in m.parameters()]
            self.opt[b] = torch.optim.Adam(params, lr=lr)
        self.frozen_branches_eval = frozen_branches_eval
        self.amp = amp
        self.scaler = torch.amp.GradScaler('cuda') if amp else None
        self.iter = 0

    def train_step(self, data: dict) -> Dict[str, torch.Tensor]:
        """One iteration: step 1 on even, step 2 on odd iterations (1:1 cycle)."""
        from spact_mm.engine.optimizers.minimax_optim_wrapper import (
            PHASE_BRANCHES,
            eval_modules,
            modules_outside,
        )

        anonymizer_step = self.iter % 2 == 0
        active = PHASE_BRANCHES['anonymizer' if anonymizer_step else 'adversary']
        modes = eval_modules(modules_outside(self.modules, active)) \
            if self.frozen_branches_eval else nullcontext()
        ctx = torch.autocast('cuda') if self.amp else nullcontext()
        with ctx, modes:
            batch = self.model.data_preprocessor(data, True)
            losses = self.model(**batch, mode='loss')
        l_t, l_b = losses['loss_cls'], losses['loss_ssl']
        loss = l_t - self.w * l_b if anonymizer_step else l_t + l_b
        opts = [self.opt['anonymizer']] if anonymizer_step else [
            self.opt['recognizer'], self.opt['privacy']]
        if self.amp:
            self.scaler.scale(loss).backward()
            for o in opts:
                self.scaler.step(o)
            self.scaler.update()
        else:
            loss.backward()  # builds gradients for all three nets
            for o in opts:
                o.step()
        for o in self.opt.values():  # the other branches' gradients are thrown away
            o.zero_grad(set_to_none=True)
        self.iter += 1
        return dict(loss_cls=l_t.detach(), loss_ssl=l_b.detach())


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def benchmark_minimax(scale: str = 'demo',
                      iters: int = 10,
                      warmup: int = 2,
                      batch_size: Optional[int] = None,
                      device: str = 'cpu',
                      amp: bool = False,
                      channels_last: bool = False,
                      ssl_weight: float = 0.5,
                      lr: float = 1e-4,
                      seed: int = 0,
                      clip_len: Optional[int] = None,
                      size: Optional[int] = None,
                      frozen_branches_eval: bool = False) -> Dict[str, float]:
    """Time our minimax iteration against the reference loop on equal terms.

    Both loops run ``warmup + iters`` iterations (alternating step 1 and step
    2) on the same batches, interleaved iteration by iteration so that load
    changes on a shared machine hit both alike; the last ``iters`` are timed.
    Peak memory is then measured over two further iterations (one per step)
    of each loop.

    Returns:
        ``ours_s`` / ``reference_s`` (mean seconds per iteration), per-step
        means ``ours_step1_s`` ..., ``speedup`` (reference / ours),
        ``ours_peak_mib`` / ``reference_peak_mib`` and ``max_loss_diff``, the
        largest absolute difference of L_T or L_B between the loops over all
        iterations.
    """
    from mmengine.registry import init_default_scope

    from spact_mm.registry import MODELS

    init_default_scope('spact_mm')
    if amp and not device.startswith('cuda'):
        raise ValueError('--amp needs a CUDA device (mmengine AmpOptimWrapper)')
    dev = torch.device(device)
    _, t, size_default, default_bs = SCALES[scale]
    bs = batch_size or default_bs
    t, size = clip_len or t, size or size_default
    torch.manual_seed(seed)
    model_cfg = scale_model_cfg(scale)
    base = MODELS.build(model_cfg).to(dev)  # PyTorch's default initialisation
    if channels_last:
        to_channels_last(base)
    ours_model, ref_model = copy.deepcopy(base), copy.deepcopy(base)
    del base
    ours_model.train()
    ref_model.train()
    wrapper = build_ours(ours_model, ssl_weight, lr, amp, channels_last, frozen_branches_eval)
    reference = ReferenceLoop(ref_model, ssl_weight, lr, amp, frozen_branches_eval)
    num_classes = model_cfg['cls_head']['num_classes']
    batches = [random_batch(bs, t, size, num_classes, seed=seed + i) for i in range(2)]

    times: Dict[str, List[float]] = {'ours': [], 'reference': []}
    max_diff = 0.
    total = warmup + iters + (iters + warmup) % 2  # whole cycles
    for i in range(total):
        data = batches[i % 2]
        out = {}
        for name in ('ours', 'reference'):
            torch.manual_seed(seed + 1000 + i)  # same frame pairs and dropout in both
            _sync(dev)
            t0 = time.perf_counter()
            if name == 'ours':
                log = ours_model.train_step(copy.copy(data), wrapper)
            else:
                log = reference.train_step(copy.copy(data))
            _sync(dev)
            if i >= total - iters:
                times[name].append(time.perf_counter() - t0)
            out[name] = log
        for k in ('loss_cls', 'loss_ssl'):
            max_diff = max(max_diff, abs(out['ours'][k].item() - out['reference'][k].item()))
    res: Dict[str, float] = dict(max_loss_diff=max_diff, iters=len(times['ours']),
                                 batch_size=bs, clip_len=t, size=size)
    for name, ts in times.items():
        res[f'{name}_s'] = sum(ts) / len(ts)
        # ``total`` is even, so the timed iterations start at an even (step-1) index
        # exactly when ``iters`` is even; recover the phase from the iteration index.
        first = total - iters
        s1 = [x for j, x in enumerate(ts) if (first + j) % 2 == 0]
        s2 = [x for j, x in enumerate(ts) if (first + j) % 2 == 1]
        res[f'{name}_step1_s'] = sum(s1) / max(len(s1), 1)
        res[f'{name}_step2_s'] = sum(s2) / max(len(s2), 1)
    res['speedup'] = res['reference_s'] / res['ours_s']
    for name in ('ours', 'reference'):
        with peak_memory(dev) as mem:
            for j in range(2):
                torch.manual_seed(seed + j)
                if name == 'ours':
                    ours_model.train_step(copy.copy(batches[j]), wrapper)
                else:
                    reference.train_step(copy.copy(batches[j]))
        res[f'{name}_peak_mib'] = mem['peak_mib']
    return res


# ------------------------------------------------------ per-branch breakdown
def _median_ms(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] * 1e3


def _pass(net: nn.Module, x: torch.Tensor, weight_grad: bool, input_grad: bool):
    """A closure running ``net`` forward (and backward when any grad is asked)."""

    def run() -> None:
        net.requires_grad_(weight_grad)
        inp = x.detach().requires_grad_(input_grad)
        if not (weight_grad or input_grad):
            with torch.no_grad():
                net(inp)
            return
        out = net(inp)
        out = out[-1] if isinstance(out, (tuple, list)) else out
        out.float().sum().backward()
        net.zero_grad(set_to_none=True)

    return run


def branch_costs(scale: str = 'demo',
                 batch_size: Optional[int] = None,
                 device: str = 'cpu',
                 repeats: int = 5,
                 seed: int = 0) -> Dict[str, float]:
    """Per-branch costs of one minimax iteration and the speedup they predict.

    Times (median of ``repeats``, milliseconds) each network alone on the
    tensors it sees in one iteration: f_A on the N*T frames, f_T (backbone)
    on the N clips, f_B (backbone + projection) on the 2N sampled frames. For
    each: forward without autograd (``fwd``), forward + backward building only
    input gradients (``in``), only weight gradients (``w``) or both
    (``both``). Loss heads are small and left out.

    Which pass each loop runs (f_A's input, the raw clip, never needs a
    gradient):

    - reference, steps 1 and 2: f_A ``w``, f_T ``both``, f_B ``both``;
    - ours, step 1 (f_A learns): f_A ``w``, f_T ``in``, f_B ``in``;
    - ours, step 2 (f_T, f_B learn): f_A ``fwd``, f_T ``w``, f_B ``w``.

    ``predicted_speedup`` = 2 * reference / (ours step 1 + ours step 2). The
    saving is bounded: step 1 must still backpropagate through all three
    networks to reach f_A, so when f_A dominates the cost the prediction tends
    to (2 * A_w) / (A_w + A_fwd), about 1.5x with a backward pass at twice
    the forward's cost.
    """
    from mmengine.registry import init_default_scope

    from spact_mm.registry import MODELS

    init_default_scope('spact_mm')
    dev = torch.device(device)
    _, t, size, default_bs = SCALES[scale]
    bs = batch_size or default_bs
    torch.manual_seed(seed)
    model = MODELS.build(scale_model_cfg(scale)).to(dev).train()
    head = model.privacy_head
    nets = dict(
        f_A=(model.data_preprocessor.anonymizer, torch.rand(bs * t, 3, size, size, device=dev)),
        f_T=(model.backbone, torch.randn(bs, 3, t, size, size, device=dev)),
        f_B=(nn.Sequential(head.backbone, head.neck),
             torch.randn(2 * bs, 3, size, size, device=dev)))
    res: Dict[str, float] = dict(batch_size=bs, clip_len=t, size=size)
    modes = dict(fwd=(False, False), **{'in': (False, True)}, w=(True, False), both=(True, True))
    for name, (net, x) in nets.items():
        for mode, (wg, ig) in modes.items():
            res[f'{name}_{mode}_ms'] = _median_ms(_pass(net, x, wg, ig), repeats, dev)
    model.requires_grad_(True)
    ref = res['f_A_w_ms'] + res['f_T_both_ms'] + res['f_B_both_ms']
    ours1 = res['f_A_w_ms'] + res['f_T_in_ms'] + res['f_B_in_ms']
    ours2 = res['f_A_fwd_ms'] + res['f_T_w_ms'] + res['f_B_w_ms']
    res.update(reference_step_ms=ref, ours_step1_ms=ours1, ours_step2_ms=ours2,
               predicted_speedup=2 * ref / (ours1 + ours2),
               f_A_share=res['f_A_w_ms'] / ref,
               f_A_only_bound=2 * res['f_A_w_ms'] / (res['f_A_w_ms'] + res['f_A_fwd_ms']))
    return res


# --------------------------------------------------------------- inference
def benchmark_inference(scale: str = 'demo',
                        iters: int = 10,
                        warmup: int = 2,
                        batch_size: Optional[int] = None,
                        device: str = 'cpu') -> Dict[str, float]:
    """Clips/s of a stock recognizer with and without f_A in front.

    The stock recognizer is mmaction2's ``Recognizer3D`` (f_T of the scale's
    model, with ``ActionDataPreprocessor``); the private one is the same model
    with that preprocessor wrapped in a frozen ``AnonymizerDataPreprocessor``.
    Both run ``test_step`` under ``torch.no_grad`` (predict mode).
    """
    from mmengine.registry import init_default_scope

    from spact_mm.registry import MODELS

    init_default_scope('spact_mm')
    dev = torch.device(device)
    _, t, size, default_bs = SCALES[scale]
    bs = batch_size or default_bs
    cfg = scale_model_cfg(scale)
    cfg.pop('privacy_head')
    anon_pre = cfg.pop('data_preprocessor')
    stock_cfg = dict(cfg, type='Recognizer3D', data_preprocessor=anon_pre['preprocessor'])
    private_cfg = dict(cfg, type='Recognizer3D',
                       data_preprocessor=dict(anon_pre, frozen=True))
    data = random_batch(bs, t, size, cfg['cls_head']['num_classes'])
    res: Dict[str, float] = dict(batch_size=bs, clip_len=t, size=size)
    for name, mcfg in (('stock', stock_cfg), ('anonymized', private_cfg)):
        torch.manual_seed(0)
        model = MODELS.build(mcfg).to(dev).eval()
        with torch.no_grad():
            for i in range(warmup + iters):
                if i == warmup:
                    _sync(dev)
                    t0 = time.perf_counter()
                model.test_step(copy.copy(data))
            _sync(dev)
        res[f'{name}_clips_per_s'] = bs * iters / (time.perf_counter() - t0)
    res['slowdown'] = res['stock_clips_per_s'] / res['anonymized_clips_per_s']
    return res


# ------------------------------------------------------------- data loading
def benchmark_dataloader(config: str,
                         num_batches: int = 20,
                         num_workers: Optional[int] = None,
                         model_iters: int = 4,
                         cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Clips/s of a config's training pipeline against the model's consumption.

    Loading: the config's ``train_dataloader`` (decode + sampling +
    augmentation, with its ``num_workers`` unless given), timed over
    ``num_batches`` batches after the first (worker start-up excluded).
    Consumption: ``train_step`` of the config's model and ``optim_wrapper`` on
    the loaded batches, ``model_iters`` iterations after one warm-up.

    Returns:
        ``load_clips_per_s``, ``model_clips_per_s``, ``num_workers``,
        ``batch_size`` and ``loading_bound`` (1.0 when loading is slower).
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'spact_mm'))
    dl_cfg = copy.deepcopy(cfg.train_dataloader)
    if num_workers is not None:
        dl_cfg['num_workers'] = num_workers
        if num_workers == 0:
            dl_cfg['persistent_workers'] = False
    loader = Runner.build_dataloader(dl_cfg, seed=0)
    bs = dl_cfg['batch_size']
    batches = []
    it = iter(loader)
    batches.append(next(it))  # worker start-up
    t0 = time.perf_counter()
    for _ in range(num_batches):
        try:
            batches.append(next(it))
        except StopIteration:
            it = iter(loader)
            batches.append(next(it))
    load = bs * num_batches / (time.perf_counter() - t0)
    del it, loader

    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.train()
    ow = copy.deepcopy(cfg.optim_wrapper)
    ctor = ow.pop('constructor', 'DefaultOptimWrapperConstructor')
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=ctor, optim_wrapper_cfg=ow))(model)
    for i in range(model_iters + 1):
        if i == 1:
            t0 = time.perf_counter()
        model.train_step(batches[i % len(batches)], wrapper)
    consume = bs * model_iters / (time.perf_counter() - t0)
    return dict(load_clips_per_s=load, model_clips_per_s=consume,
                num_workers=dl_cfg.get('num_workers', 0), batch_size=bs,
                loading_bound=float(load < consume))
