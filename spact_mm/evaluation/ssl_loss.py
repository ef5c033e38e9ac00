"""L_B of a trained SPAct model on a dataset (the demo's "L_B before/after minimax")."""
from typing import Iterable

import torch
from mmengine.utils import ProgressBar


@torch.no_grad()
def evaluate_ssl_loss(model: torch.nn.Module, dataloader: Iterable, seed: int = 0) -> float:
    """Mean privacy loss ``loss_ssl`` (L_B, Eq. 5) of ``model`` over ``dataloader``.

    The model runs in eval mode (BN running statistics) and the frame sampler
    S_F draws from a fixed seed, so two models are compared on the same frame
    pairs. Batches are weighted by their size.

    Args:
        model: An :class:`SPActRecognizer` with a privacy head.
        dataloader: Yields dataloader-style batches (``inputs``, ``data_samples``).
        seed: Seed of the frame sampler.

    Returns:
        The mean L_B.
    """
    was_training = model.training
    model.eval()
    rng_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    total, count = 0.0, 0
    try:
        bar = ProgressBar(len(dataloader)) if hasattr(dataloader, '__len__') else None
        for batch in dataloader:
            data = model.data_preprocessor(batch, False)
            loss = model.privacy_head.loss(data['inputs'])['loss_ssl']
            n = data['inputs'].shape[0]
            total += float(loss) * n
            count += n
            if bar is not None:
                bar.update()
    finally:
        torch.random.set_rng_state(rng_state)
        model.train(was_training)
    if count == 0:
        raise ValueError('evaluate_ssl_loss got an empty dataloader')
    return total / count
