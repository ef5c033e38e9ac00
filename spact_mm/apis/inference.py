"""Anonymize frames and videos with a trained f_A (the deployed f_A^* of Sec. 4).

``init_anonymizer`` builds the frozen anonymizer of any spact_mm config (its
``model.data_preprocessor``, an :class:`AnonymizerDataPreprocessor`) and loads
a checkpoint; ``anonymize_frames`` runs it on an array of frames in batches;
``anonymize_video`` streams a video file through it and writes a video with
the same frame count, frame rate and size; ``anonymize_videos`` does a file or
a folder and keeps going past unreadable files. ``tools/anonymize_video.py``
is the CLI over these functions.

Reading uses decord (as mmaction2's ``DecordInit``), with OpenCV's
``VideoCapture`` as the fallback for containers decord cannot open; writing
uses OpenCV's ``VideoWriter`` (mmcv has no streaming writer).
"""
import copy
import os
import os.path as osp
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import cv2  # imported before decord (lazily below): decord first breaks cv2's PNG reading
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from tqdm import tqdm

#: Extensions taken as videos when a folder is given.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.m4v', '.webm', '.mpg', '.mpeg', '.wmv',
                    '.flv', '.3gp', '.ts', '.ogv')
#: Output containers OpenCV writes here, with their codec; others are written as .mp4.
WRITE_FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.mkv': 'mp4v', '.avi': 'MJPG'}


class VideoReadError(RuntimeError):
    """A video that neither decord nor OpenCV can read; the message names the file."""


class TruncatedVideoError(VideoReadError):
    """A video that ended before the frame count its container declares."""


class OutputPathError(ValueError):
    """An output path that would overwrite an input (the message names both)."""


# ----------------------------------------------------------------------------- model
def init_anonymizer(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: Optional[Union[str, torch.device]] = None):
    """Build the frozen f_A of a spact_mm config and load its weights.

    Args:
        config: A config (path or :class:`Config`) whose ``model.data_preprocessor``
            is an ``AnonymizerDataPreprocessor``: any SPAct stage config, or a
            recognizer config made with
            :func:`spact_mm.utils.deploy.put_anonymizer_in_front`.
        checkpoint: A checkpoint holding f_A (a stage-1/2/3 ``final.pth``, or one
            with only the anonymizer). ``None`` keeps the config's own
            ``checkpoint`` entry (or untrained weights if it has none).
        device: Where to run; default ``cuda:0`` if available, else ``cpu``.

    Returns:
        The ``AnonymizerDataPreprocessor`` in eval mode with ``frozen=True``; its
        ``anonymize_unit`` maps [0, 1] frames (..., C, H, W) to f_A's output.
    """
    from spact_mm.registry import MODELS

    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    pre_cfg = config.get('model', {}).get('data_preprocessor')
    if pre_cfg is None or not str(pre_cfg.get('type', '')).endswith('AnonymizerDataPreprocessor'):
        raise ValueError('config has no f_A: its model.data_preprocessor must be an '
                         f'AnonymizerDataPreprocessor, got {pre_cfg and pre_cfg.get("type")!r}')
    pre_cfg = copy.deepcopy(pre_cfg.to_dict() if hasattr(pre_cfg, 'to_dict') else dict(pre_cfg))
    pre_cfg.pop('_scope_', None)
    pre_cfg['type'] = 'AnonymizerDataPreprocessor'
    for key in ('ssl_views', 'temporal_consistency'):  # training-only options of subclasses
        pre_cfg.pop(key, None)
    pre_cfg.update(frozen=True, return_raw=False)
    if checkpoint is not None:
        pre_cfg['checkpoint'] = checkpoint
    if device is None:
        device = 'cuda:0' if torch.cuda.is_available() else 'cpu'
    with DefaultScope.overwrite_default_scope('spact_mm'):
        anonymizer = MODELS.build(pre_cfg)
    return anonymizer.to(device).eval()


def _size_divisor(anonymizer) -> int:
    return int(getattr(anonymizer.anonymizer, 'size_divisor', 1))


@torch.no_grad()
def anonymize_frames(anonymizer, frames: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Anonymize RGB uint8 frames with f_A, ``batch_size`` frames per forward pass.

    Frames whose height or width is not a multiple of f_A's size divisor (a UNet
    halves the resolution ``num_stages - 1`` times) are edge-padded for f_A and
    cropped back, so the output has the input's size.

    Args:
        anonymizer: The result of :func:`init_anonymizer`.
        frames: (T, H, W, 3) or (H, W, 3) uint8 RGB frames.
        batch_size: Frames per forward pass.

    Returns:
        f_A(frames) as uint8, same shape as ``frames``.
    """
    frames = np.asarray(frames)
    if frames.ndim == 3:
        return anonymize_frames(anonymizer, frames[None], batch_size)[0]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f'expected (T, H, W, 3) RGB frames, got shape {frames.shape}')
    h, w = frames.shape[1:3]
    div = _size_divisor(anonymizer)
    pad_h, pad_w = -h % div, -w % div
    device = next(anonymizer.parameters()).device
    out = np.empty_like(frames, dtype=np.uint8)
    for i in range(0, len(frames), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(frames[i:i + batch_size])).to(device)
        x = x.permute(0, 3, 1, 2).float() / 255.
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
        y = anonymizer.anonymize_unit(x)[..., :h, :w]
        y = (y.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
        out[i:i + batch_size] = y.cpu().numpy()
    return out


# ----------------------------------------------------------------------------- video i/o
class _Video:
    """A video opened with decord, or with OpenCV when decord cannot open it."""

    def __init__(self, path: str) -> None:
        self.path = path
        if not osp.isfile(path):
            raise VideoReadError(f'{path}: no such file')
        errors = []
        try:
            import decord
            self._vr = decord.VideoReader(path, num_threads=1)
            self.backend = 'decord'
            self.num_frames = len(self._vr)
            self.fps = float(self._vr.get_avg_fps())
            self.height, self.width = self._vr[0].shape[:2]
            self._vr.seek(0)
        except Exception as e:  # decord raises its own DECORDError and RuntimeErrors
            errors.append(f'decord: {e}'.splitlines()[0])
            self._vr = None
        if self._vr is None:
            cap = cv2.VideoCapture(path)
            ok, first = cap.read() if cap.isOpened() else (False, None)
            if not ok:
                errors.append('OpenCV: cannot open or decode')
                raise VideoReadError(f'cannot read video {path} ({"; ".join(errors)})')
            self._cv, self._first = cap, first
            self.backend = 'opencv'
            self.num_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))  # may be an estimate
            self.fps = float(cap.get(cv2.CAP_PROP_FPS))
            self.height, self.width = first.shape[:2]
        if self.num_frames <= 0 or not self.fps > 0:
            raise VideoReadError(f'cannot read video {path}: {self.num_frames} frames at '
                                 f'{self.fps} fps')

    def batches(self, size: int) -> Iterator[np.ndarray]:
        """Yield (B, H, W, 3) uint8 RGB frames, ``size`` at a time, in order."""
        try:
            if self.backend == 'decord':
                for i in range(0, self.num_frames, size):
                    idx = list(range(i, min(i + size, self.num_frames)))
                    yield self._vr.get_batch(idx).asnumpy()
                return
            batch, frame = [], self._first
            while frame is not None:
                batch.append(frame[..., ::-1])
                if len(batch) == size:
                    yield np.stack(batch)
                    batch = []
                ok, frame = self._cv.read()
                frame = frame if ok else None
            if batch:
                yield np.stack(batch)
        except VideoReadError:
            raise
        except Exception as e:
            raise VideoReadError(f'cannot decode video {self.path}: {e}') from e


    def frames_at(self, indices: List[int]) -> np.ndarray:
        """(len(indices), H, W, 3) uint8 RGB frames at the given positions."""
        if self.backend == 'decord':
            try:
                return self._vr.get_batch(list(indices)).asnumpy()
            except Exception as e:
                raise VideoReadError(f'cannot decode video {self.path}: {e}') from e
        wanted, got, pos = set(indices), {}, 0
        for batch in self.batches(64):
            for frame in batch:
                if pos in wanted:
                    got[pos] = frame
                pos += 1
        last = got[max(got)] if got else None
        return np.stack([got.get(i, last) for i in indices])


def output_path_for(video: str, out: str) -> str:
    """Where the anonymized ``video`` goes: ``out`` itself if it names a video
    file, else ``out/<name>`` (with ``.mp4`` for containers OpenCV does not write)."""
    if Path(out).suffix.lower() in WRITE_FOURCC:
        return out
    name = Path(video).name
    if Path(name).suffix.lower() not in WRITE_FOURCC:
        name = Path(name).stem + '.mp4'
    return osp.join(out, name)


def _same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one file: after resolving symlinks, or
    as two hard links to one inode."""
    if osp.realpath(a) == osp.realpath(b):
        return True
    try:
        return osp.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (symlinks resolved)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_paths(videos: List[str], targets: List[str], source: str, out: str) -> None:
    """Refuse outputs that would overwrite an input, before anything is written.

    Refused: an output folder that is the input folder or lies inside it; an
    output that resolves to any input (the same path, through a symlink, or a
    hard link to it); two inputs written to one output.

    Raises:
        OutputPathError: Naming the output and the input it would destroy.
    """
    if osp.isdir(source) and _inside(out, source):
        raise OutputPathError(f'refusing --out {out}: it is the input folder {source} or '
                              f'lies inside it; anonymized videos would replace or mix with '
                              f'the inputs. Choose a folder outside {source}')
    seen: Dict[str, str] = {}
    for video, target in zip(videos, targets):
        for other in videos:
            if _same_file(target, other):
                raise OutputPathError(f'refusing to write {target}: it is the input video '
                                      f'{other}; choose another --out')
        key = osp.realpath(target)
        if key in seen:
            raise OutputPathError(f'refusing to write {target} twice: both {seen[key]} and '
                                  f'{video} would be written there')
        seen[key] = video


def anonymize_video(anonymizer,
                    video: str,
                    out: str,
                    batch_size: int = 16,
                    side_by_side: bool = False,
                    progress: bool = True,
                    allow_truncated: bool = False) -> Dict:
    """Anonymize a video file and write the result.

    The output has the input's frame count, frame rate and size (twice the
    width with ``side_by_side``: raw on the left, anonymized on the right).

    Args:
        anonymizer: The result of :func:`init_anonymizer`.
        video: Any file decord or OpenCV reads (mp4, avi, mkv, ...).
        out: Output video path (.mp4, .avi, .mkv, .mov, .m4v).
        batch_size: Frames per forward pass of f_A.
        side_by_side: Write raw|anonymized next to each other.
        progress: Show a progress bar (on stderr).
        allow_truncated: Keep the output of a video that ends before the frame
            count its container declares (default: refuse it).

    The output is written under a temporary name beside ``out``
    (:func:`spact_mm.utils.checkpoint.atomic_output`) and renamed to ``out``
    only when complete, so a failure or a kill never leaves a partial video
    under ``out`` nor replaces an earlier one.

    Returns:
        ``dict(input, output, frames, declared_frames, truncated, fps, width,
        height, seconds, frames_per_second)``; ``frames`` were read and written,
        ``declared_frames`` is the container's count; ``frames_per_second`` is
        the throughput of decode + f_A + encode.

    Raises:
        VideoReadError: If the video cannot be opened or decoded (names the file).
        TruncatedVideoError: If it ended early and ``allow_truncated`` is False.
        OutputPathError: If ``out`` is the input video (also through a link).
    """
    from spact_mm.utils.checkpoint import atomic_output

    start = time.perf_counter()
    if _same_file(out, video):
        raise OutputPathError(f'refusing to write {out}: it is the input video {video}')
    src = _Video(video)
    suffix = Path(out).suffix.lower()
    if suffix not in WRITE_FOURCC:
        raise ValueError(f'cannot write {out}: use one of {sorted(WRITE_FOURCC)}')
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    width = src.width * (2 if side_by_side else 1)
    # tqdm, not mmengine's ProgressBar: that one counts "tasks", here the unit is frames.
    bar = tqdm(total=src.num_frames, unit='frame', file=sys.stderr, desc=Path(video).name,
               leave=True) if progress else None
    count = 0
    # OpenCV picks the container from the extension: the temporary name keeps it.
    with atomic_output(out, tmp_suffix='.tmp' + suffix) as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*WRITE_FOURCC[suffix]), src.fps,
                                 (width, src.height))
        if not writer.isOpened():
            raise OSError(f'OpenCV cannot write {out}')
        try:
            for frames in src.batches(batch_size):
                anon = anonymize_frames(anonymizer, frames, batch_size)
                if side_by_side:
                    anon = np.concatenate([frames, anon], axis=2)
                for frame in anon:
                    writer.write(np.ascontiguousarray(frame[..., ::-1]))
                count += len(frames)
                if bar is not None:
                    bar.update(len(frames))
        finally:
            writer.release()
            if bar is not None:
                bar.close()
        if count < src.num_frames and not allow_truncated:
            raise TruncatedVideoError(
                f'{video} ended early: read {count} of the {src.num_frames} frames its '
                f'container declares (truncated or damaged file); nothing written to {out}. '
                f'Pass --allow-truncated (allow_truncated=True) to keep the {count} frames')
        if count == 0 or os.path.getsize(tmp) == 0:
            raise OSError(f'OpenCV wrote nothing for {out}')
    seconds = time.perf_counter() - start
    return dict(input=video, output=out, frames=count, declared_frames=src.num_frames,
                truncated=count < src.num_frames, fps=src.fps, width=src.width,
                height=src.height, seconds=seconds, frames_per_second=count / max(seconds, 1e-9))


def find_videos(folder: str) -> List[str]:
    """Video files under ``folder`` (recursively, by extension), sorted."""
    return sorted(str(p) for p in Path(folder).rglob('*')
                  if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def anonymize_videos(anonymizer,
                     source: str,
                     out: str,
                     batch_size: int = 16,
                     side_by_side: bool = False,
                     progress: bool = True,
                     logger=print,
                     allow_truncated: bool = False) -> Tuple[List[Dict], List[Tuple[str, str]]]:
    """Anonymize one video file, or every video in a folder (keeping sub-folders).

    A video that cannot be read, or that ended early, does not stop the others:
    its error is logged and returned. Outputs that would overwrite an input
    stop the whole run before anything is written (:func:`check_output_paths`).

    Args:
        anonymizer: The result of :func:`init_anonymizer`.
        source: A video file or a folder of videos.
        out: For a file, an output video path or a folder; for a folder, a folder.
        batch_size, side_by_side, progress, allow_truncated: See
            :func:`anonymize_video`.
        logger: Called with one line per video.

    Returns:
        ``(results, failures)``: :func:`anonymize_video`'s dicts, and
        ``(path, message)`` for each video that failed.

    Raises:
        OutputPathError: If an output would overwrite an input.
    """
    if osp.isdir(source):
        videos = find_videos(source)
        if not videos:
            raise FileNotFoundError(f'no video files ({", ".join(VIDEO_EXTENSIONS)}) '
                                    f'under {source}')
        targets = [output_path_for(v, osp.join(out, osp.relpath(osp.dirname(v), source)))
                   for v in videos]
    else:
        videos, targets = [source], [output_path_for(source, out)]
    check_output_paths(videos, targets, source, out)
    results, failures = [], []
    for video, target in zip(videos, targets):
        try:
            res = anonymize_video(anonymizer, video, target, batch_size, side_by_side, progress,
                                  allow_truncated)
        except (VideoReadError, OSError, ValueError) as e:
            failures.append((video, str(e)))
            logger(f'FAILED {video}: {e}')
            continue
        results.append(res)
        logger(f'{video} -> {target}: {res["frames"]} frames, {res["width"]}x{res["height"]} '
               f'at {res["fps"]:.2f} fps; {res["frames_per_second"]:.1f} frames/s')
        if res['truncated']:
            logger(f'WARNING {video} ended early: read {res["frames"]} of the '
                   f'{res["declared_frames"]} frames its container declares; written anyway '
                   f'(allow_truncated)')
    return results, failures


def video_anonymization_grid(anonymizer, videos: List[str], num_frames: int = 6,
                             scale: int = 1) -> np.ndarray:
    """Raw-versus-anonymized grid of ``num_frames`` evenly spaced frames per video.

    Every video is one pair of rows (raw above f_A's output), drawn by
    :func:`spact_mm.visualization.anonymization_grid`; frames of later videos
    are resized to the first video's size.

    Returns:
        The grid as a uint8 RGB array.
    """
    from spact_mm.visualization import anonymization_grid

    raws, anons, size = [], [], None
    for path in videos:
        src = _Video(path)
        idx = np.unique(np.linspace(0, src.num_frames - 1, num_frames).round().astype(int))
        raw = src.frames_at(idx.tolist())
        anon = anonymize_frames(anonymizer, raw)
        if size is None:
            size = raw.shape[1:3]
        if raw.shape[1:3] != size:
            raw, anon = ([cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA)
                          for f in x] for x in (raw, anon))
        raws.append(torch.from_numpy(np.stack(raw)).permute(0, 3, 1, 2) / 255.)
        anons.append(torch.from_numpy(np.stack(anon)).permute(0, 3, 1, 2) / 255.)
    t = min(len(r) for r in raws)
    raw_t = torch.stack([r[:t] for r in raws])
    anon_t = torch.stack([a[:t] for a in anons])
    return anonymization_grid(raw_t, anon_t, num_clips=len(videos), num_frames=t, scale=scale)


# ----------------------------------------------------------------------------- CLIs
def _common_args(parser) -> None:
    # The same name as tools/deploy_anonymizer.py; --config kept as an alias.
    parser.add_argument('--anonymizer-config', '--config', dest='config', required=True,
                        help='spact_mm config whose model.data_preprocessor holds f_A')
    parser.add_argument('--checkpoint', default=None,
                        help='checkpoint holding f_A (e.g. work_dirs/<stage-3 run>/final.pth)')
    parser.add_argument('--device', default=None, help='default: cuda:0 if available, else cpu')


def anonymize_video_main(argv: Optional[List[str]] = None) -> int:
    """``tools/anonymize_video.py``: anonymize a video or a folder of videos.

    Returns:
        The exit status: 0 if every video was written, 1 if any failed (or ended
        early, without ``--allow-truncated``), 2 if ``--out`` would overwrite an
        input (nothing is written then).
    """
    import argparse

    parser = argparse.ArgumentParser(description='Anonymize videos with a trained SPAct f_A.',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('source', help='a video file or a folder of videos')
    _common_args(parser)
    parser.add_argument('--out', required=True,
                        help='output video (for one input video) or folder')
    parser.add_argument('--batch-size', type=int, default=16, help='frames per f_A forward')
    parser.add_argument('--side-by-side', action='store_true',
                        help='write raw | anonymized side by side')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--allow-truncated', action='store_true',
                        help='keep the output of a video that ends before the frame count '
                             'its container declares (default: report it and exit 1)')
    args = parser.parse_args(argv)
    if args.checkpoint is None:
        print('warning: no --checkpoint; f_A uses the config\'s checkpoint entry, if any, '
              'or untrained weights', file=sys.stderr)
    anonymizer = init_anonymizer(args.config, args.checkpoint, args.device)
    try:
        results, failures = anonymize_videos(anonymizer, args.source, args.out,
                                             args.batch_size, args.side_by_side,
                                             not args.no_progress,
                                             allow_truncated=args.allow_truncated)
    except OutputPathError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    frames = sum(r['frames'] for r in results)
    seconds = sum(r['seconds'] for r in results)
    print(f'anonymized {len(results)} video(s), {frames} frames in {seconds:.1f} s: '
          f'{frames / max(seconds, 1e-9):.1f} frames/s (decode + f_A + encode, '
          f'{next(anonymizer.parameters()).device})')
    if failures:
        print(f'{len(failures)} video(s) failed:', file=sys.stderr)
        for path, msg in failures:
            print(f'  {path}: {msg}', file=sys.stderr)
        return 1
    return 0


def visualize_anonymizer_main(argv: Optional[List[str]] = None) -> int:
    """``tools/analysis_tools/visualize_anonymizer.py``: a raw-vs-anonymized PNG."""
    import argparse

    from spact_mm.visualization import save_grid

    parser = argparse.ArgumentParser(
        description='Draw raw (top) versus anonymized (bottom) frames of videos as a PNG.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('videos', nargs='+', help='video files (one row pair each)')
    _common_args(parser)
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--num-frames', type=int, default=6, help='frames per video')
    parser.add_argument('--scale', type=int, default=1, help='integer upscaling of the grid')
    args = parser.parse_args(argv)
    anonymizer = init_anonymizer(args.config, args.checkpoint, args.device)
    grid = video_anonymization_grid(anonymizer, args.videos, args.num_frames, args.scale)
    print(f'wrote {save_grid(grid, args.out)} ({grid.shape[1]}x{grid.shape[0]})')
    return 0


# ------------------------------------------------------------------- recognition
#: Pipeline steps that open or decode a video file; a numpy clip replaces them.
_VIDEO_INIT_STEPS = ('DecordInit', 'OpenCVInit', 'PyAVInit')
_VIDEO_DECODE_STEPS = ('DecordDecode', 'OpenCVDecode', 'PyAVDecode', 'PyAVDecodeMotionVector')


def _array_pipeline(test_pipeline: List[dict]) -> List[dict]:
    """The test pipeline for a (T, H, W, 3) array: init steps dropped, the decode step
    replaced by mmaction2's ``ArrayDecode`` (frame sampling and the rest unchanged)."""
    steps = [copy.deepcopy(s) for s in test_pipeline if s['type'] not in _VIDEO_INIT_STEPS]
    decode = [i for i, s in enumerate(steps) if s['type'] in _VIDEO_DECODE_STEPS]
    if len(decode) != 1:
        raise ValueError('the test pipeline must decode videos with exactly one of '
                         f'{", ".join(_VIDEO_DECODE_STEPS)}; found {[s["type"] for s in steps]}')
    steps[decode[0]] = dict(type='ArrayDecode')
    return steps


def recognize(model: torch.nn.Module, video: Union[str, np.ndarray], top_k: int = 5) -> dict:
    """Action labels and scores of one video from a privacy-preserving recognizer.

    ``model`` is an mmaction2 recognizer whose ``data_preprocessor`` is an
    :class:`AnonymizerDataPreprocessor`, as ``mmaction.apis.init_recognizer`` builds it
    from a SPAct stage-2/3 config (f_A is part of that model) or from a config written by
    ``tools/deploy_anonymizer.py``. Give it **raw** video: f_A runs exactly once, in the
    model. (Anonymizing first, e.g. with :func:`anonymize_frames`, would run it twice.)
    The clip goes through the config's ``test_pipeline`` as mmaction2's
    ``inference_recognizer`` does; a numpy clip has its decode step replaced by
    mmaction2's ``ArrayDecode``.

    Args:
        model: The recognizer (``init_recognizer(config, checkpoint)``), in eval mode.
        video: A video file path, or a (T, H, W, 3) uint8 RGB clip.
        top_k: How many of the best classes to return.

    Returns:
        ``dict(labels, scores, classes, all_scores)``: the ``top_k`` class indices and
        their scores (softmax of the head, best first), their names when the config's
        dataset metainfo or ``dataset_classes`` has them (else ``None``), and the scores
        of every class (numpy, float32).

    Raises:
        TypeError: if the model has no f_A in front, or ``video`` is neither a path nor
            an array.
        ValueError: if the array is not (T, H, W, 3) uint8.
        FileNotFoundError: if the video file does not exist.
    """
    from mmaction.apis import inference_recognizer
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    from spact_mm.models.data_preprocessors import AnonymizerDataPreprocessor
    from spact_mm.utils.compat import get_pred_score

    if not isinstance(model.data_preprocessor, AnonymizerDataPreprocessor):
        raise TypeError(f'{type(model).__name__} has no f_A in front (its data_preprocessor is '
                        f'{type(model.data_preprocessor).__name__}); build it from a SPAct config '
                        'or one written by tools/deploy_anonymizer.py')
    cfg = model.cfg
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if isinstance(video, (str, Path)):
        if not osp.isfile(str(video)):
            raise FileNotFoundError(f'video not found: {video}')
        result = inference_recognizer(model, str(video))
    elif isinstance(video, np.ndarray):
        if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8:
            raise ValueError(f'a numpy clip must be (T, H, W, 3) uint8 RGB, got {video.shape} '
                             f'{video.dtype}')
        data = dict(array=video, total_frames=len(video), label=-1, start_index=0,
                    modality='RGB')
        result = inference_recognizer(model, data, Compose(_array_pipeline(cfg.test_pipeline)))
    else:
        raise TypeError(f'video must be a file path or a numpy clip, got {type(video).__name__}')
    scores = torch.as_tensor(get_pred_score(result)).float().cpu().numpy()
    order = np.argsort(-scores, kind='stable')[:top_k]
    names = _class_names(cfg)
    return dict(labels=order.tolist(), scores=scores[order].tolist(),
                classes=[names[i] for i in order] if names and len(names) == len(scores)
                else None, all_scores=scores)


def _class_names(cfg: Config) -> Optional[List[str]]:
    """Class names from ``dataset_classes`` or the test dataset's ``metainfo``, if any."""
    names = cfg.get('dataset_classes')
    if names is None:
        meta = (cfg.get('test_dataloader') or {}).get('dataset', {}).get('metainfo') or {}
        names = meta.get('classes')
    return list(names) if names is not None else None
