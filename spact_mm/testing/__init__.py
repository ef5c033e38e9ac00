"""Small helpers shared by the tests and the benchmarks: synthetic batches, no data needed."""
import torch

__all__ = ['random_batch', 'tiny_video_pipeline']


def tiny_video_pipeline(clip_len: int = 8, size: int = 16) -> list:
    """An mmaction2 pipeline that decodes one ``clip_len``-frame clip at ``size`` x ``size``
    (decord), for the tests' small generated videos."""
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=1),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(size, size), keep_ratio=False),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def random_batch(n: int, t: int, size: int, num_classes: int, seed: int = 0) -> dict:
    """A dataloader-style batch of random uint8 NCTHW clips with action labels.

    Args:
        n: Clips.
        t: Frames per clip.
        size: Height and width.
        num_classes: Labels are ``i % num_classes``.
        seed: Seed of the pixel values.

    Returns:
        ``dict(inputs=[(1, 3, t, size, size) uint8 tensors], data_samples=[...])``, as
        mmaction2's ``pseudo_collate`` gives it.
    """
    from mmaction.structures import ActionDataSample

    from spact_mm.utils.compat import set_gt_label

    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (1, 3, t, size, size), generator=gen, dtype=torch.uint8)
              for _ in range(n)]
    samples = [set_gt_label(ActionDataSample(), torch.tensor([i % num_classes]))
               for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)
