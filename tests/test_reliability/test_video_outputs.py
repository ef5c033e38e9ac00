"""tools/anonymize_video.py: never destroys an input, writes atomically, reports short videos.

Each case runs the CLI's entry (``tools/anonymize_video.py``'s ``main``) on tiny videos
written in the test, with an untrained narrow f_A (the output's content does not
matter here, only which files exist and what they hold).
"""
import hashlib
import os
from pathlib import Path

import cv2  # noqa: F401  (before decord, see README)
import numpy as np
import pytest
from conftest import load_tool
from mmengine.config import Config
from reliability_helpers import faststart_mp4

from spact_mm.apis import inference
from spact_mm.apis.inference import anonymize_video, init_anonymizer
from spact_mm.datasets.synthetic import write_video

anonymize_video_main = load_tool('anonymize_video.py').main

ROOT = Path(__file__).resolve().parents[2]
DEMO_CFG = ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'


@pytest.fixture(scope='module')
def tiny_cfg(tmp_path_factory) -> str:
    cfg = Config.fromfile(str(DEMO_CFG))
    cfg.model.data_preprocessor.anonymizer.base_channels = 4
    path = tmp_path_factory.mktemp('cfg') / 'tiny_fa.py'
    cfg.dump(str(path))
    return str(path)


def frames(n: int, seed: int = 0) -> np.ndarray:
    """``n`` distinct 32x32 RGB frames (a moving bar on a changing background)."""
    rng = np.random.default_rng(seed)
    out = np.repeat(rng.integers(0, 200, (n, 1, 1, 3), dtype=np.uint8), 32, 1).repeat(32, 2)
    for t in range(n):
        out[t, :, t % 32] = 255
    return out


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree(folder) -> dict:
    """``{relative path: sha256}`` of every file under ``folder`` (hidden files too)."""
    return {str(p.relative_to(folder)): sha(p) for p in sorted(Path(folder).rglob('*'))
            if p.is_file()}


def run(tiny_cfg, *args) -> int:
    return anonymize_video_main([*args, '--config', tiny_cfg, '--no-progress',
                                 '--device', 'cpu'])


def test_out_that_is_the_input_is_refused_and_the_input_kept(tiny_cfg, tmp_path, capsys):
    src = tmp_path / 'in'
    src.mkdir()
    video = src / 'clip.mp4'
    write_video(str(video), frames(12), 8)
    os.symlink(video, tmp_path / 'link.mp4')
    os.link(video, tmp_path / 'hard.mp4')
    os.symlink(src, tmp_path / 'src_link')
    before = tree(tmp_path)
    cases = [
        (str(video), str(video)),                   # --out equal to the input
        (str(video), str(tmp_path / 'link.mp4')),   # a symlink to the input
        (str(video), str(tmp_path / 'hard.mp4')),   # a hard link to the input
        (str(video), str(src)),                     # the input's own folder: src/clip.mp4
        (str(video), str(tmp_path / 'src_link')),   # that folder through a symlink
        (str(src), str(src)),                       # a folder as its own --out
        (str(src), str(src / 'anon')),              # a folder inside the input folder
        (str(src), str(tmp_path / 'src_link' / 'x')),
    ]
    for source, out in cases:
        assert run(tiny_cfg, source, '--out', out) == 2, (source, out)
        err = capsys.readouterr().err
        assert 'refusing' in err and str(Path(source).name) in err, (source, out, err)
        assert tree(tmp_path) == before, (source, out)  # nothing written, nothing changed
    # The library function refuses too, before opening any writer.
    with pytest.raises(inference.OutputPathError, match='clip.mp4'):
        anonymize_video(init_anonymizer(tiny_cfg, device='cpu'), str(video),
                        str(tmp_path / 'link.mp4'), progress=False)
    assert tree(tmp_path) == before
    # A folder next to the input folder is fine.
    assert run(tiny_cfg, str(src), '--out', str(tmp_path / 'anon')) == 0
    assert (tmp_path / 'anon' / 'clip.mp4').stat().st_size > 0
    assert sha(video) == before['in/clip.mp4']


def test_a_failed_write_leaves_the_previous_output_and_no_partial_file(tiny_cfg, tmp_path,
                                                                       monkeypatch):
    video, out = tmp_path / 'clip.mp4', tmp_path / 'out' / 'clip.mp4'
    write_video(str(video), frames(12), 8)
    assert run(tiny_cfg, str(video), '--out', str(out), '--batch-size', '4') == 0
    good = sha(out)
    real = inference.anonymize_frames
    calls = []

    def fail_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError('disk full (simulated)')
        return real(*args, **kwargs)

    monkeypatch.setattr(inference, 'anonymize_frames', fail_on_second_batch)
    assert run(tiny_cfg, str(video), '--out', str(out), '--batch-size', '4') == 1
    assert len(calls) == 2  # it failed half-way
    assert sha(out) == good  # the earlier output is untouched
    assert sorted(p.name for p in out.parent.iterdir()) == ['clip.mp4']  # no temporary file


@pytest.fixture(scope='module')
def cut_video(tmp_path_factory):
    """A faststart mp4 declaring 300 frames, cut at 60% of its bytes."""
    root = tmp_path_factory.mktemp('cut')
    full = root / 'full.mp4'
    write_video(str(full), frames(300), 25)
    data = faststart_mp4(full.read_bytes())
    (root / 'faststart.mp4').write_bytes(data)
    (root / 'cut.mp4').write_bytes(data[:int(len(data) * 0.6)])
    return root


def _count(path) -> int:
    cap, n = cv2.VideoCapture(str(path)), 0
    while cap.read()[0]:
        n += 1
    return n


def test_a_truncated_video_is_reported_and_exits_nonzero(tiny_cfg, cut_video, tmp_path,
                                                         capsys):
    # The uncut faststart file is complete: all 300 frames come out.
    assert run(tiny_cfg, str(cut_video / 'faststart.mp4'), '--out', str(tmp_path / 'a.mp4')) == 0
    assert _count(tmp_path / 'a.mp4') == 300
    capsys.readouterr()
    readable = _count(cut_video / 'cut.mp4')
    assert 0 < readable < 300
    # Default: named, frames read against frames declared, exit 1, no output.
    assert run(tiny_cfg, str(cut_video / 'cut.mp4'), '--out', str(tmp_path / 'b.mp4')) == 1
    err = capsys.readouterr().err
    assert 'cut.mp4' in err and f'read {readable} of the 300 frames' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.mp4']
    # --allow-truncated keeps the frames that were there, with a warning.
    assert run(tiny_cfg, str(cut_video / 'cut.mp4'), '--out', str(tmp_path / 'b.mp4'),
               '--allow-truncated') == 0
    out = capsys.readouterr().out
    assert 'WARNING' in out and f'read {readable} of the 300 frames' in out
    assert _count(tmp_path / 'b.mp4') == readable
