"""Two-process (gloo, CPU) minimax training against a single process on the whole batch.

Every rank must end with identical f_A, f_T and f_B weights, and the ranks'
mean loss must equal the single-process loss on the concatenated batch:

* with cross-rank negatives (``NTXentLoss(gather_distributed=True)``) the
  reference is plain Eq. 5 on all 2 x 4 clips;
* without them each rank's NT-Xent only sees its own 4 clips, so the reference
  is the mean of Eq. 5 over the two halves.

Batch norm is put in eval mode (running statistics, identical on both ranks):
in train mode each rank normalises with the statistics of its own half, which
is not the single-process computation (SyncBN, which would make it so, only
runs on GPUs in PyTorch). The frame sampler S_F is replaced by a fixed pair
(first and last frame), because its random draw depends on the batch size.
The model is wrapped in ``SPActDistributedDataParallel`` (built from the
registry, as the Runner does), i.e. mmengine's ``MMDistributedDataParallel``
with ``find_unused_parameters=True``: the phase of each iteration freezes some
branches, whose parameters then produce no gradient. On CPU it also reverts
the SyncBN of mmpretrain's ``NonLinearNeck`` to BN.
"""
import copy
import socket

import torch
import torch.multiprocessing as mp
from conftest import make_batch, tiny_model_cfg

N_PER_RANK = 4
ITERS = 3  # step 1, step 2, step 1
WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _fixed_pairs(inputs):
    x = inputs.flatten(0, 1) if inputs.dim() == 6 else inputs
    return x[:, :, 0], x[:, :, -1]


def _build(gather: bool):
    from mmengine.registry import init_default_scope

    from spact_mm.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

    init_default_scope('spact_mm')
    torch.manual_seed(0)
    cfg = tiny_model_cfg()
    cfg['privacy_head']['loss']['gather_distributed'] = gather
    model = MODELS.build(cfg).double().eval()
    model.privacy_head.frame_pairs = _fixed_pairs
    wcfg = dict(type='MinimaxOptimWrapper', ssl_weight=0.5)
    for b in ('anonymizer', 'recognizer', 'privacy'):
        wcfg[b] = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    build_wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='MinimaxOptimWrapperConstructor', optim_wrapper_cfg=wcfg))
    return model, build_wrapper


def _half(data: dict, rank: int) -> dict:
    sl = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
    return dict(inputs=data['inputs'][sl], data_samples=data['data_samples'][sl])


def _batches():
    return [make_batch(n=WORLD * N_PER_RANK, size=16, seed=i) for i in range(ITERS)]


def _worker(rank: int, port: int, results):
    import torch.distributed as dist
    from mmengine.registry import init_default_scope

    from spact_mm.registry import MODEL_WRAPPERS

    torch.set_num_threads(1)
    init_default_scope('spact_mm')
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=WORLD)
    out = {}
    for gather in (True, False):
        model, build_wrapper = _build(gather)
        ddp = MODEL_WRAPPERS.build(
            dict(type='SPActDistributedDataParallel', module=model, device_ids=None,
                 broadcast_buffers=False))
        wrapper = build_wrapper(ddp)
        losses = []
        for data in _batches():
            log = ddp.train_step(_half(data, rank), wrapper)
            losses.append(log['loss'].item())
        out[gather] = (losses, {k: v.detach().clone() for k, v in model.state_dict().items()})
    results[rank] = out
    dist.barrier()
    dist.destroy_process_group()


class _PerHalfNTXent(torch.nn.Module):
    """Eq. 5 on each rank's half of the batch, averaged: what ranks without
    cross-rank negatives optimise together."""

    def __init__(self, ntxent: torch.nn.Module) -> None:
        super().__init__()
        self.ntxent = ntxent

    def forward(self, z1, z2):
        halves = (slice(0, N_PER_RANK), slice(N_PER_RANK, None))
        return sum(self.ntxent(z1[h], z2[h]) for h in halves) / WORLD


def _single_process(gather: bool):
    model, build_wrapper = _build(gather)
    if not gather:  # each rank's NT-Xent only saw its own half of the batch
        model.privacy_head.loss_module = _PerHalfNTXent(model.privacy_head.loss_module)
    wrapper = build_wrapper(model)
    losses = [model.train_step(copy.deepcopy(d), wrapper)['loss'].item() for d in _batches()]
    return losses, model.state_dict()


def test_two_gloo_ranks_match_one_process_on_the_concatenated_batch():
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_worker, args=(_free_port(), results), nprocs=WORLD, join=True)
        results = dict(results)
    for gather in (True, False):
        (loss0, state0), (loss1, state1) = results[0][gather], results[1][gather]
        ref_losses, ref_state = _single_process(gather)
        # Identical weights on every rank (f_A, f_T and f_B alike) ...
        assert state0.keys() == ref_state.keys()
        for k in state0:
            torch.testing.assert_close(state0[k], state1[k], rtol=0, atol=1e-12)
            # ... and equal to the single-process run on the concatenated batch.
            torch.testing.assert_close(state0[k], ref_state[k], rtol=1e-9, atol=1e-11)
        # The rank-mean loss is the single-process loss, every iteration.
        mean = [(a + b) / 2 for a, b in zip(loss0, loss1)]
        torch.testing.assert_close(torch.tensor(mean), torch.tensor(ref_losses),
                                   rtol=1e-10, atol=1e-12)
    # The weights did move, in every branch, and the two settings differ.
    init, _ = _build(True)
    moved = {k.split('.')[0] for k, v in init.state_dict().items()
             if v.is_floating_point() and not torch.allclose(v, results[0][True][1][k])}
    assert {'data_preprocessor', 'backbone', 'cls_head', 'privacy_head'} <= moved
    assert not torch.allclose(torch.tensor(results[0][True][0]),
                              torch.tensor(results[0][False][0]))
