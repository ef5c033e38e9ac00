"""L_B of a trained SPAct model on a dataset (the demo's "L_B before/after minimax")."""
from typing import Iterable

import torch
from mmengine.utils import ProgressBar


@torch.no_grad()
def evaluate_ssl_loss(model: torch.nn.Module, dataloader: Iterable, seed: int = 0) -> float:
    """Mean privacy loss (L_B, Eq. 5) of ``model`` over ``dataloader``.

    The loss is the one the privacy head declares (its ``loss_key``:
    ``loss_ssl`` for the SSL heads, ``loss_privacy``, f_B's BCE on the privacy
    labels, for the supervised head of [41], which then needs data samples
    with ``privacy_label``). The head is evaluated outside the minimax loop
    (phase ``None``, restored after). The model runs in eval mode (BN running
    statistics) and the frame sampler S_F draws from a fixed seed, so two
    models are compared on the same frame pairs. Batches are weighted by their
    size.

    Args:
        model: An :class:`SPActRecognizer` with a privacy head.
        dataloader: Yields dataloader-style batches (``inputs``, ``data_samples``).
        seed: Seed of the frame sampler.

    Returns:
        The mean L_B.
    """
    head = model.privacy_head
    key = getattr(head, 'loss_key', 'loss_ssl')
    phase = getattr(head, 'minimax_phase', None)
    if phase is not None:
        head.minimax_phase = None
    was_training = model.training
    model.eval()
    rng_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    total, count = 0.0, 0
    try:
        bar = ProgressBar(len(dataloader)) if hasattr(dataloader, '__len__') else None
        for batch in dataloader:
            data = model.data_preprocessor(batch, False)
            loss = head.loss(data['inputs'], data.get('data_samples'))[key]
            n = data['inputs'].shape[0]
            total += float(loss) * n
            count += n
            if bar is not None:
                bar.update()
    finally:
        torch.random.set_rng_state(rng_state)
        model.train(was_training)
        if phase is not None:
            head.minimax_phase = phase
    if count == 0:
        raise ValueError('evaluate_ssl_loss got an empty dataloader')
    return total / count
