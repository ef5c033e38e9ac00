"""AnonymizerDataPreprocessor and UNetAnonymizer."""
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
