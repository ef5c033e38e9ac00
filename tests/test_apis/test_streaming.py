"""Streaming anonymization (issue 17): chunked output equals whole-video output, for
per-frame and clip-level f_A; f_A's working size; flat memory; live input.

f_A here are small and untrained (a 4-channel UNet with non-trivial BatchNorm
statistics, motion-only, BDQ with perturbed levels), on small synthetic frames.
"""
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import cv2  # before decord (see README)
import numpy as np
import pytest
import torch
from conftest import load_tool
from mmengine.config import Config

from spact_mm.apis import inference
from spact_mm.apis.backends import TorchAnonymizer
from spact_mm.apis.inference import (
    FrameStream,
    anonymize_stream,
    anonymize_video,
    trained_size_of,
    working_size,
)
from spact_mm.datasets.synthetic import write_video
from spact_mm.models.anonymizers import BDQEncoder, MotionOnlyAnonymizer, UNetAnonymizer

anonymize_video_main = load_tool('anonymize_video.py').main

ROOT = Path(__file__).resolve().parents[2]
DEMO_CFG = ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
PAPER_CFG = ROOT / 'configs/spact/spact-stage1_unet_adam-100e_ucf101-16x112x112.py'


def random_unet() -> UNetAnonymizer:
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=3)
    for m in unet.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return unet.eval()


def random_bdq(**kwargs) -> BDQEncoder:
    torch.manual_seed(1)
    bdq = BDQEncoder(sigma=1.5, **kwargs).eval()
    with torch.no_grad():
        bdq.quantizer.levels.add_(torch.rand_like(bdq.quantizer.levels) - 0.5)
    return bdq


def moving_frames(n: int, h: int = 30, w: int = 44, seed: int = 0) -> np.ndarray:
    """``n`` frames: a textured background and a bright square moving across it."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 180, (h, w, 3), dtype=np.uint8)
    out = np.repeat(bg[None], n, 0)
    for t in range(n):
        x = (3 * t) % (w - 8)
        out[t, 5:13, x:x + 8] = (250, 240, 30)
    noise = rng.integers(0, 12, out.shape, dtype=np.uint8)
    return out + noise


def stream_in_chunks(runner, frames: np.ndarray, sizes, size=None) -> np.ndarray:
    stream = FrameStream(runner, frames.shape[1:3], size, batch_size=4)
    out, i, k = [], 0, 0
    while i < len(frames):
        n = sizes[k % len(sizes)]
        out.append(stream(frames[i:i + n]))
        i, k = i + n, k + 1
    out.append(stream.flush())
    return np.concatenate(out)


def whole(runner, frames: np.ndarray, size=None) -> np.ndarray:
    """The whole video in one chunk (one clip for a clip-level f_A)."""
    stream = FrameStream(runner, frames.shape[1:3], size, batch_size=len(frames))
    return np.concatenate([stream(frames), stream.flush()])


def to_uint8(y: np.ndarray) -> np.ndarray:
    return np.round(np.clip(y, 0, 1) * 255)


CHUNKINGS = [[1], [2], [3], [5, 1, 2], [7, 4], [1, 6]]


@pytest.mark.parametrize('chunks', CHUNKINGS)
def test_per_frame_stream_equals_whole_video(chunks):
    frames = moving_frames(17)
    runner = TorchAnonymizer(random_unet())
    assert np.array_equal(stream_in_chunks(runner, frames, chunks), whole(runner, frames))


def test_whole_video_matches_float64_unet():
    frames = moving_frames(6)
    unet = random_unet().double()
    x = torch.from_numpy(frames).double().permute(0, 3, 1, 2) / 255.
    x = torch.nn.functional.pad(x, (0, 0, 0, 2), mode='replicate')  # 30 -> 32 rows, for f_A
    with torch.no_grad():
        ref = to_uint8(unet(x)[:, :, :30].permute(0, 2, 3, 1).numpy())
    got = whole(TorchAnonymizer(random_unet()), frames)  # fused, channels-last, float32
    assert np.abs(got.astype(int) - ref).max() <= 1


def motion_only_reference(frames: np.ndarray) -> np.ndarray:
    """Grey frame difference in float64 from the equation (frame 0 repeats frame 1's)."""
    x = frames.astype(np.float64) / 255.
    g = 0.2989 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    d = np.diff(g, axis=0)
    d = np.concatenate([d[:1], d]) if len(g) > 1 else np.zeros_like(g)
    y = np.clip(0.5 + 0.5 * d, 0, 1)
    return to_uint8(np.repeat(y[..., None], 3, -1))


@pytest.mark.parametrize('chunks', CHUNKINGS)
def test_clip_level_stream_equals_whole_video(chunks):
    frames = moving_frames(17)
    for module in (MotionOnlyAnonymizer(), random_bdq(normalize='fixed'),
                   random_bdq(normalize='fixed', first_frame='zero')):
        runner = TorchAnonymizer(module)
        got = stream_in_chunks(runner, frames, chunks)
        assert got.shape == frames.shape
        assert np.array_equal(got, whole(runner, frames)), (type(module).__name__, chunks)
    # and the whole video is the motion-only equation (up to float32 rounding)
    ref = motion_only_reference(frames)
    assert np.abs(whole(TorchAnonymizer(MotionOnlyAnonymizer()), frames) - ref).max() <= 1


def test_clip_level_whole_video_is_f_a_on_one_clip():
    """The whole-video result is f_A on the video as one clip (not frame by frame)."""
    from spact_mm.models.anonymizers import anonymize_clips

    frames = moving_frames(9)
    bdq = random_bdq(normalize='fixed')
    clip = torch.from_numpy(frames).permute(3, 0, 1, 2)[None].float() / 255.
    with torch.no_grad():
        ref = to_uint8(anonymize_clips(bdq, clip)[0].permute(1, 2, 3, 0).numpy())
    got = whole(TorchAnonymizer(bdq), frames)
    assert np.abs(got.astype(int) - ref).max() <= 1
    moving = np.abs(ref.astype(int) - 127.5).max(-1) > 20
    assert moving.any() and not moving.all()  # motion shows, the static background does not


def test_clip_range_quantizer_is_fixed_for_streaming_with_a_warning():
    frames = moving_frames(12)
    with pytest.warns(UserWarning, match="normalize='fixed'"):
        runner = TorchAnonymizer(random_bdq(normalize='clip'))
    fixed = TorchAnonymizer(random_bdq(normalize='fixed'))
    assert np.array_equal(stream_in_chunks(runner, frames, [4]), whole(fixed, frames))


def test_wrap_first_frame_cannot_be_streamed():
    frames = moving_frames(8)
    runner = TorchAnonymizer(MotionOnlyAnonymizer(first_frame='wrap'))
    whole(runner, frames)  # one chunk: fine
    with pytest.raises(ValueError, match="first_frame='wrap'"):
        stream_in_chunks(runner, frames, [4])


def test_one_frame_video_of_a_clip_level_f_a_is_still_written():
    frame = moving_frames(1)
    got = stream_in_chunks(TorchAnonymizer(MotionOnlyAnonymizer()), frame, [1])
    assert got.shape == frame.shape and np.all(got == 128)  # no motion: mid-grey


@pytest.mark.parametrize('module', [random_unet(), MotionOnlyAnonymizer(), random_bdq(
    normalize='fixed')], ids=['unet', 'motion-only', 'bdq'])
def test_forward_passes_are_bounded_and_change_no_output(module):
    """A chunk of 12 frames with room for 2 per pass: split into passes of at most 2
    frames (plus the overlap frame of a clip-level f_A), same output as one pass."""
    frames = moving_frames(12)
    runner = TorchAnonymizer(module)
    seen = []
    for name in ('anonymize_unit', 'anonymize_unit_clips'):
        real = getattr(runner, name)

        def spy(x, real=real):
            seen.append(x.shape[2] if x.dim() == 5 else x.shape[0])
            return real(x)
        setattr(runner, name, spy)
    stream = FrameStream(runner, frames.shape[1:3], batch_size=16,
                         max_pixels=2 * 32 * 44 + 1)
    got = np.concatenate([stream(frames), stream.flush()])
    assert seen and max(seen) <= (3 if runner.clip_level else 2), seen
    assert np.array_equal(got, whole(TorchAnonymizer(module), frames))


def read_all(path) -> np.ndarray:
    cap, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, f = cap.read()
        if not ok:
            return np.stack(frames)
        frames.append(f[..., ::-1])


@pytest.mark.parametrize('module', [random_unet(), MotionOnlyAnonymizer()],
                         ids=['unet', 'motion-only'])
def test_anonymize_video_in_chunks_equals_one_chunk(module, tmp_path):
    src = tmp_path / 'in.avi'
    write_video(str(src), moving_frames(23, 48, 64), 12.5)
    runner = TorchAnonymizer(module)
    a = anonymize_video(runner, str(src), str(tmp_path / 'a.avi'), batch_size=3,
                        progress=False, scale=1.0)
    b = anonymize_video(runner, str(src), str(tmp_path / 'b.avi'), batch_size=100,
                        progress=False, scale=1.0)
    assert a['frames'] == b['frames'] == 23
    assert np.array_equal(read_all(tmp_path / 'a.avi'), read_all(tmp_path / 'b.avi'))


def test_large_frames_are_decoded_in_chunks_of_bounded_pixels(tmp_path, monkeypatch):
    src = tmp_path / 'in.avi'
    write_video(str(src), moving_frames(11, 48, 64), 12.5)
    runner = TorchAnonymizer(random_unet())
    ref = anonymize_video(runner, str(src), str(tmp_path / 'a.avi'), batch_size=100,
                          progress=False, scale=1.0)
    sizes = []
    batches = inference._Video.batches

    def spy(self, size):
        sizes.append(size)
        return batches(self, size)

    monkeypatch.setattr(inference._Video, 'batches', spy)
    monkeypatch.setattr(inference, 'MAX_CHUNK_PIXELS', 3 * 48 * 64)  # three frames
    got = anonymize_video(runner, str(src), str(tmp_path / 'b.avi'), batch_size=100,
                          progress=False, scale=1.0)
    assert sizes == [3] and got['frames'] == ref['frames'] == 11
    assert np.array_equal(read_all(tmp_path / 'a.avi'), read_all(tmp_path / 'b.avi'))


# ----------------------------------------------------------------- working size
def test_trained_size_is_read_from_the_config():
    assert trained_size_of(DEMO_CFG) == Config.fromfile(str(DEMO_CFG)).img_size
    # paper: Resize(-1, 128) then 112 crops; the scale f_A sees is the 128 short side
    resize = [t for t in Config.fromfile(str(PAPER_CFG)).val_pipeline if t.type == 'Resize']
    assert trained_size_of(PAPER_CFG) == resize[-1].scale[1]
    assert trained_size_of(Config(dict(val_pipeline=[dict(type='CenterCrop')]))) is None


def test_trained_size_recorded_in_the_checkpoint_wins_and_runs_no_code(tmp_path, capsys):
    """A checkpoint's recorded training config (mmengine's meta['cfg']) gives f_A's
    trained size; its text is parsed, never executed."""
    from spact_mm.apis.inference import init_anonymizer, trained_size_in_checkpoint

    cfg = Config.fromfile(str(DEMO_CFG))
    cfg.model.data_preprocessor.anonymizer.base_channels = 4
    cfg.dump(str(tmp_path / 'cfg.py'))
    marker = tmp_path / 'ran'
    text = ("val_pipeline = [dict(type='DecordInit'), dict(type='Resize', scale=(48, 48), "
            f"keep_ratio=False)]\nimport os\nos.system('touch {marker}')\n"
            f"train_pipeline = __import__('os').system('touch {marker}')\n")
    state = {f'data_preprocessor.anonymizer.{k}': v for k, v in
             UNetAnonymizer(base_channels=4, num_stages=3).state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict(cfg=text)), tmp_path / 'final.pth')
    assert trained_size_in_checkpoint(str(tmp_path / 'final.pth')) == 48
    fa = init_anonymizer(str(tmp_path / 'cfg.py'), str(tmp_path / 'final.pth'), 'cpu')
    assert fa.trained_size == 48 and not marker.exists()
    assert 'short side 48' in capsys.readouterr().err
    torch.save(dict(state_dict=state), tmp_path / 'bare.pth')  # nothing recorded: the config
    assert init_anonymizer(str(tmp_path / 'cfg.py'), str(tmp_path / 'bare.pth')).trained_size == 32


def test_working_size_rules():
    assert working_size(480, 640) == (480, 640)  # nothing known: full resolution
    assert working_size(480, 640, trained_size=120) == (120, 160)  # short side, aspect kept
    assert working_size(480, 640, trained_size=120, scale=0.5) == (240, 320)  # scale wins
    assert working_size(1080, 1920, max_size=640) == (360, 640)
    assert working_size(1080, 1920, scale=1.0, max_size=4000) == (1080, 1920)
    with pytest.raises(ValueError):
        working_size(10, 10, scale=0)


def test_working_size_output_keeps_frames_fps_and_size(tmp_path):
    """f_A at a smaller size, resized back: output frame count, fps and size are the
    input's, and the content is the independent resize -> f_A -> resize of each frame."""
    frames = moving_frames(10, 48, 64)
    src = tmp_path / 'in.avi'
    write_video(str(src), frames, 12.5)
    unet = random_unet()
    runner = TorchAnonymizer(unet)
    runner.trained_size = 24  # as init_anonymizer records it from the config
    res = anonymize_video(runner, str(src), str(tmp_path / 'o.avi'), progress=False)
    assert (res['working_height'], res['working_width']) == (24, 32)
    cap = cv2.VideoCapture(str(tmp_path / 'o.avi'))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(12.5)
    got = read_all(tmp_path / 'o.avi').astype(float)
    assert got.shape == frames.shape
    decoded = read_all(src)
    small = np.stack([cv2.resize(f, (32, 24), interpolation=cv2.INTER_AREA) for f in decoded])
    with torch.no_grad():
        y = unet.double()(torch.from_numpy(small).double().permute(0, 3, 1, 2) / 255.)
    y = to_uint8(y.permute(0, 2, 3, 1).numpy()).astype(np.uint8)
    want = np.stack([cv2.resize(f, (64, 48), interpolation=cv2.INTER_LINEAR) for f in y])
    full = anonymize_video(runner, str(src), str(tmp_path / 'f.avi'), progress=False, scale=1)
    assert (full['working_height'], full['working_width']) == (48, 64)
    err = np.abs(got - want).mean()
    assert err < 3.0  # MJPG's loss
    assert np.abs(read_all(tmp_path / 'f.avi') - want).mean() > 2 * err  # not full size


# ----------------------------------------------------------------- memory
PROBE = r'''
import json, resource, sys
import cv2, torch
from spact_mm.apis.backends import TorchAnonymizer
from spact_mm.apis.inference import anonymize_video
from spact_mm.models.anonymizers import MotionOnlyAnonymizer, UNetAnonymizer
torch.set_num_threads(1)
kind, warm, video, out = sys.argv[1:5]
runner = TorchAnonymizer(UNetAnonymizer(base_channels=4, num_stages=3) if kind == 'unet'
                         else MotionOnlyAnonymizer())
anonymize_video(runner, warm, out, batch_size=8, progress=False, scale=1.0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
res = anonymize_video(runner, video, out, batch_size=8, progress=False, scale=1.0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(delta_kb=peak - base, frames=res['frames'])))
'''


@pytest.mark.parametrize('kind', ['unet', 'motion-only'])
def test_peak_memory_is_flat_when_the_video_doubles(kind, tmp_path):
    """Peak RSS growth (after a warm-up video) of an N- and a 2N-frame video, each in
    a fresh process: holding the video would add N frames (13.8 MB as uint8 here)."""
    h, w, n = 120, 160, 240
    rng = np.random.default_rng(0)
    for name, count in (('warm', 40), ('n', n), ('2n', 2 * n)):
        write_video(str(tmp_path / f'{name}.mp4'),
                    rng.integers(0, 256, (count, h, w, 3), dtype=np.uint8), 25)
    deltas = {}
    for name in ('n', '2n'):
        proc = subprocess.run([sys.executable, '-c', PROBE, kind, str(tmp_path / 'warm.mp4'),
                               str(tmp_path / f'{name}.mp4'), str(tmp_path / 'o.mp4')],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        assert res['frames'] == (n if name == 'n' else 2 * n)
        deltas[name] = res['delta_kb'] * 1024
    frames_bytes = n * h * w * 3
    assert deltas['2n'] - deltas['n'] < 0.4 * frames_bytes, deltas


# ----------------------------------------------------------------- live input
_RealCapture = cv2.VideoCapture


class _Capture:
    """cv2.VideoCapture over a file that sends this process a real SIGINT (Ctrl-C)
    once ``stop_after`` frames were read."""

    stop_after = None

    def __init__(self, source):
        self._cap = _RealCapture(source)
        self._reads = 0

    def __getattr__(self, name):
        return getattr(self._cap, name)

    def read(self):
        self._reads += 1
        if self.stop_after is not None and self._reads == self.stop_after + 1:
            os.kill(os.getpid(), signal.SIGINT)
        return self._cap.read()


def test_live_file_source_equals_file_mode(tmp_path):
    src = tmp_path / 'cam.avi'
    write_video(str(src), moving_frames(14, 48, 64), 10)
    runner = TorchAnonymizer(MotionOnlyAnonymizer())
    lines = []
    res = anonymize_stream(runner, str(src), str(tmp_path / 'live.avi'), scale=1.0,
                           readout_every=1e-9, logger=lines.append)
    assert res['frames'] == 14 and not res['interrupted'] and res['fps'] == pytest.approx(10)
    assert lines and 'frames/s' in lines[-1]
    anonymize_video(runner, str(src), str(tmp_path / 'file.avi'), progress=False, scale=1.0)
    assert np.array_equal(read_all(tmp_path / 'live.avi'), read_all(tmp_path / 'file.avi'))
    res = anonymize_stream(runner, str(src), str(tmp_path / 'five.avi'), batch_size=3,
                           max_frames=5, scale=1.0)
    assert res['frames'] == 5 and len(read_all(tmp_path / 'five.avi')) == 5


def test_ctrl_c_stops_cleanly_with_a_valid_output(tmp_path, monkeypatch):
    src = tmp_path / 'cam.avi'
    write_video(str(src), moving_frames(40, 48, 64), 10)
    monkeypatch.setattr(inference.cv2, 'VideoCapture', _Capture)
    monkeypatch.setattr(_Capture, 'stop_after', 9)
    runner = TorchAnonymizer(random_unet())
    previous = signal.getsignal(signal.SIGINT)
    res = anonymize_stream(runner, str(src), str(tmp_path / 'out.avi'), scale=1.0)
    assert signal.getsignal(signal.SIGINT) is previous  # handler restored
    assert res['interrupted'] and 9 <= res['frames'] <= 10
    monkeypatch.undo()
    assert len(read_all(tmp_path / 'out.avi')) == res['frames']  # a complete, valid file
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cam.avi', 'out.avi']  # no tmp


def test_live_to_a_pipe_writes_raw_frames(tmp_path, monkeypatch):
    src = tmp_path / 'cam.avi'
    write_video(str(src), moving_frames(6, 48, 64), 10)

    class Out:
        buffer = __import__('io').BytesIO()

    monkeypatch.setattr(sys, 'stdout', Out)
    lines = []
    res = anonymize_stream(TorchAnonymizer(MotionOnlyAnonymizer()), str(src), '-', scale=1.0,
                           logger=lines.append)
    data = Out.buffer.getvalue()
    assert res['frames'] == 6 and len(data) == 6 * 48 * 64 * 3
    assert 'ffmpeg -f rawvideo -pix_fmt bgr24 -s 64x48' in lines[0]
    file_out = tmp_path / 'f.avi'
    anonymize_video(TorchAnonymizer(MotionOnlyAnonymizer()), str(src), str(file_out),
                    progress=False, scale=1.0)
    raw = np.frombuffer(data, np.uint8).reshape(6, 48, 64, 3)[..., ::-1]
    assert np.abs(raw.astype(int) - read_all(file_out)).mean() < 3  # the same, before MJPG


def test_cli_live_source_and_bad_camera(tmp_path, capsys):
    cfg = Config.fromfile(str(DEMO_CFG))
    cfg.model.data_preprocessor.anonymizer.base_channels = 4
    cfg.dump(str(tmp_path / 'cfg.py'))
    src = tmp_path / 'cam.avi'
    write_video(str(src), moving_frames(12, 48, 64), 10)
    args = ['--config', str(tmp_path / 'cfg.py'), '--device', 'cpu', '--no-progress']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert anonymize_video_main([str(src), '--live', '--max-frames', '7', '--out',
                                     str(tmp_path / 'o.mp4'), *args]) == 0
    out = capsys.readouterr().out
    assert 'anonymized 7 frames' in out and 'f_A at 43x32' in out  # demo f_A: 32 px short side
    assert 'MiB peak resident memory; wrote' in out
    assert len(read_all(tmp_path / 'o.mp4')) == 7
    assert anonymize_video_main(['rtsp://127.0.0.1:9/none', '--out', str(tmp_path / 'x.mp4'),
                                 *args]) == 1
    assert 'rtsp://127.0.0.1:9/none' in capsys.readouterr().err
    # --max-size on a file: f_A at 32x24, the output at the input's 64x48
    assert anonymize_video_main([str(src), '--max-size', '32', '--out', str(tmp_path / 'm.avi'),
                                 *args]) == 0
    assert 'f_A at 32x24' in capsys.readouterr().out
    assert read_all(tmp_path / 'm.avi').shape == (12, 48, 64, 3)
    # a missing ONNX file is one line naming it, exit 1
    assert anonymize_video_main([str(src), '--backend', 'onnxruntime', '--onnx',
                                 str(tmp_path / 'none.onnx'), '--out', str(tmp_path / 'n.avi'),
                                 *args]) == 1
    err = capsys.readouterr().err
    assert 'none.onnx' in err and 'Traceback' not in err
