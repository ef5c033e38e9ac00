"""AnonymizerDataPreprocessor (per-frame and clip-level f_A) and UNetAnonymizer."""
import pytest
import torch
import torch.nn as nn
from conftest import make_batch

from spact_mm.registry import MODELS

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


class Halve(nn.Module):
    """A stand-in f_A with a known output: x -> x / 2 in [0, 1] space."""

    in_channels = 3

    def forward(self, x):
        return x / 2


def build(anonymizer, fmt='NCTHW', **kw):
    return MODELS.build(dict(
        type='AnonymizerDataPreprocessor', anonymizer=anonymizer,
        preprocessor=dict(type='ActionDataPreprocessor', format_shape=fmt, **NORM), **kw))


def test_applies_fA_in_unit_pixel_space_and_renormalises():
    pre = build(Halve())
    plain = MODELS.build(dict(type='ActionDataPreprocessor', format_shape='NCTHW', **NORM))
    batch = make_batch()
    raw = torch.stack(batch['inputs']).float()  # (N, M, C, T, H, W) in [0, 255]
    out = pre(make_batch(), False)['inputs']
    mean = torch.tensor(NORM['mean']).view(3, 1, 1, 1)
    std = torch.tensor(NORM['std']).view(3, 1, 1, 1)
    torch.testing.assert_close(out, (raw / 2 - mean) / std)
    with pre.bypassed():
        torch.testing.assert_close(pre(make_batch(), False)['inputs'],
                                   plain(make_batch(), False)['inputs'])


def test_nchw_images_and_aux_views():
    pre = build(Halve(), fmt='NCHW')
    imgs = [torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8) for _ in range(3)]
    aux = [torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8) for _ in range(3)]
    out = pre(dict(inputs=list(imgs), data_samples=None, aux_inputs=list(aux)), False)
    mean = torch.tensor(NORM['mean']).view(3, 1, 1)
    std = torch.tensor(NORM['std']).view(3, 1, 1)
    torch.testing.assert_close(out['inputs'], (torch.stack(imgs).float() / 2 - mean) / std)
    torch.testing.assert_close(out['aux_inputs'], (torch.stack(aux).float() / 2 - mean) / std)


def test_unet_shapes_range_and_errors():
    unet = MODELS.build(dict(type='UNetAnonymizer', base_channels=4, num_stages=3))
    y = unet(torch.rand(2, 3, 16, 12))
    assert y.shape == (2, 3, 16, 12) and 0 < float(y.min()) and float(y.max()) < 1
    with pytest.raises(ValueError, match='divisible by 4'):
        unet(torch.rand(1, 3, 10, 16))
    with pytest.raises(ValueError, match='expects'):
        unet(torch.rand(1, 1, 16, 16))  # grayscale needs in_channels=1


def test_frozen_checkpoint_roundtrip(tmp_path):
    cfg = dict(type='UNetAnonymizer', base_channels=4, num_stages=2)
    trained = build(cfg)
    with torch.no_grad():
        for p in trained.anonymizer.parameters():
            p.add_(torch.randn_like(p))
    ckpt = tmp_path / 'model.pth'
    # A full-model checkpoint: f_A lives under data_preprocessor.anonymizer.*
    state = {f'data_preprocessor.{k}': v for k, v in trained.state_dict().items()}
    state['backbone.conv.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), ckpt)

    deployed = build(cfg, checkpoint=str(ckpt), frozen=True)
    deployed.train()
    assert not deployed.anonymizer.training  # frozen f_A stays in eval mode
    assert not any(p.requires_grad for p in deployed.anonymizer.parameters())
    trained.eval()
    x = make_batch(size=8)
    torch.testing.assert_close(deployed(x, False)['inputs'], trained(make_batch(size=8),
                                                                      False)['inputs'])

    with pytest.raises(ValueError, match='does not hold weights'):
        build(dict(type='UNetAnonymizer', base_channels=8, num_stages=2), checkpoint=str(ckpt))
    partial = tmp_path / 'partial.pth'
    torch.save({k[len('anonymizer.'):]: v for k, v in trained.state_dict().items()
                if k.startswith('anonymizer.') and 'out_conv' not in k}, partial)
    with pytest.raises(ValueError, match="missing keys.*out_conv"):
        build(cfg, checkpoint=str(partial))
    with pytest.raises(FileNotFoundError):
        build(cfg, checkpoint=str(tmp_path / 'missing.pth'))


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ('this must never run',))

    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': {}, 'x': Evil()}, f)
    with pytest.raises(RuntimeError, match='refusing to load'):
        build(dict(type='UNetAnonymizer', base_channels=4, num_stages=2), checkpoint=str(path))


class TimeReverse(nn.Module):
    """A clip-level stand-in f_A: reverses time, which no per-frame f_A can do."""

    clip_level = True

    def forward(self, clips):
        assert clips.dim() == 5
        return clips.flip(2)


def _unnormalise(x, ndim_tail):
    shape = (3, ) + (1, ) * ndim_tail
    return x * torch.tensor(NORM['std']).view(shape) + torch.tensor(NORM['mean']).view(shape)


def test_clip_level_fA_gets_whole_clips_on_ncthw():
    pre = build(TimeReverse())
    batch = make_batch(n=3, t=5)
    raw = torch.stack(batch['inputs']).float()  # (N, M, C, T, H, W)
    out = pre(make_batch(n=3, t=5), False)['inputs']
    torch.testing.assert_close(_unnormalise(out, 3), raw.flip(3), atol=1e-3, rtol=0)


def test_motion_only_through_the_preprocessor_matches_numpy():
    import numpy as np

    pre = build(dict(type='MotionOnlyAnonymizer'))
    raw = torch.stack(make_batch(n=2, t=4)['inputs']).double() / 255  # (N, 1, C, T, H, W)
    out = pre(make_batch(n=2, t=4), False)['inputs']
    x = raw.numpy()[:, 0]
    g = 0.2989 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    d = np.diff(g, axis=2)
    d = np.concatenate([d[:, :, :1], d], axis=2)
    ref = np.clip(0.5 + 0.5 * d, 0, 1).repeat(3, axis=1)[:, None] * 255
    np.testing.assert_allclose(_unnormalise(out, 3).numpy(), ref, rtol=0, atol=1e-3)


def test_clip_level_fA_on_nchw_images_sees_one_frame_clips():
    """Images (and aux views) are one-frame clips: no motion, a constant grey frame."""
    pre = build(dict(type='MotionOnlyAnonymizer'), fmt='NCHW')
    imgs = [torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8) for _ in range(3)]
    aux = [torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8) for _ in range(3)]
    out = pre(dict(inputs=list(imgs), data_samples=None, aux_inputs=list(aux)), False)
    torch.testing.assert_close(_unnormalise(out['inputs'], 2),
                               torch.full((3, 3, 8, 8), 127.5), atol=1e-3, rtol=0)
    torch.testing.assert_close(_unnormalise(out['aux_inputs'], 2),
                               torch.full((3, 2, 3, 8, 8), 127.5), atol=1e-3, rtol=0)
    # the same f_A on NCTHW clips does see motion
    clip_pre = build(dict(type='MotionOnlyAnonymizer'))
    assert float(clip_pre(make_batch(n=2, t=4), False)['inputs'].std()) > 0.01


def test_bdq_checkpoint_roundtrip_frozen_eval(tmp_path):
    cfg = dict(type='BDQEncoder')
    trained = build(cfg)
    with torch.no_grad():
        trained.anonymizer.log_sigma.add_(0.3)
        trained.anonymizer.quantizer.levels.add_(torch.linspace(-0.4, 0.4, 15))
    ckpt = tmp_path / 'bdq.pth'
    torch.save(dict(state_dict={f'data_preprocessor.{k}': v
                                for k, v in trained.state_dict().items()}), ckpt)
    deployed = build(cfg, checkpoint=str(ckpt), frozen=True)
    deployed.train()
    assert not deployed.anonymizer.training  # eval: the hard quantizer
    trained.eval()
    torch.testing.assert_close(deployed(make_batch(), False)['inputs'],
                               trained(make_batch(), False)['inputs'])
    fresh = build(cfg, frozen=True)
    assert not torch.allclose(fresh(make_batch(), False)['inputs'],
                              deployed(make_batch(), False)['inputs'])
    with pytest.raises(ValueError, match='does not hold weights'):
        build(dict(type='BDQEncoder', bits=3), checkpoint=str(ckpt))
