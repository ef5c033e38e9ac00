"""spact_mm.apis.recognize: one call from a video file or a numpy clip to labels and
scores, with f_A applied exactly once (stage-3 model and deployed model-zoo TSN)."""
import copy
from pathlib import Path

import cv2  # noqa: F401  (before decord)
import mmaction
import numpy as np
import pytest
import torch
from mmaction.apis import init_recognizer
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from spact_mm.apis import recognize
from spact_mm.apis.inference import _array_pipeline
from spact_mm.datasets.synthetic import write_video
from spact_mm.utils.compat import get_pred_score
from spact_mm.utils.deploy import put_anonymizer_in_front

ROOT = Path(__file__).resolve().parents[2]
STAGE3 = ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py'
TSN = str(Path(mmaction.__file__).parent / '.mim/configs/recognition/tsn'
          / 'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')


def _clip(t=20, size=32, seed=0) -> np.ndarray:
    """A smooth random (T, H, W, 3) uint8 RGB clip (smooth, so that mp4 keeps it)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (t, 4, 4, 3), dtype=np.uint8)
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) for f in small])


@pytest.fixture(scope='module')
def stage3_model():
    """The demo stage-3 model with seeded random weights, f_A pushed off the identity."""
    cfg = Config.fromfile(str(STAGE3))
    cfg.model.pop('init_cfg')
    torch.manual_seed(0)
    model = init_recognizer(cfg, device='cpu')
    with torch.no_grad():
        for p in model.data_preprocessor.anonymizer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def _scores_by_hand(model, clip: np.ndarray, times: int) -> torch.Tensor:
    """Scores with f_A applied ``times`` times by hand, in front of the bypassed model."""
    data = Compose(_array_pipeline(model.cfg.test_pipeline))(
        dict(array=clip, total_frames=len(clip), label=-1, start_index=0, modality='RGB'))
    x = data['inputs'].float() / 255.  # (1, C, T, H, W)
    fa = model.data_preprocessor.anonymizer
    with torch.no_grad():
        for _ in range(times):  # f_A frame by frame on (T, C, H, W) in [0, 1]
            x = fa(x[0].permute(1, 0, 2, 3)).permute(1, 0, 2, 3)[None]
        batch = pseudo_collate([dict(inputs=x * 255., data_samples=ActionDataSample())])
        with model.data_preprocessor.bypassed():
            return get_pred_score(model.test_step(batch)[0])


def test_numpy_clip_applies_fa_exactly_once(stage3_model):
    clip = _clip()
    out = recognize(stage3_model, clip, top_k=3)
    got = torch.as_tensor(out['all_scores'])
    torch.testing.assert_close(got, _scores_by_hand(stage3_model, clip, 1), rtol=1e-4,
                               atol=1e-6)
    assert (got - _scores_by_hand(stage3_model, clip, 2)).abs().max() > 1e-4  # not twice
    assert (got - _scores_by_hand(stage3_model, clip, 0)).abs().max() > 1e-4  # not raw
    assert out['labels'] == np.argsort(-out['all_scores'], kind='stable')[:3].tolist()
    assert out['scores'] == pytest.approx(out['all_scores'][out['labels']].tolist())
    assert out['scores'] == sorted(out['scores'], reverse=True)


def test_video_file_equals_its_decoded_frames(stage3_model, tmp_path):
    import decord

    path = str(tmp_path / 'clip.mp4')
    write_video(path, _clip(), fps=10)
    frames = decord.VideoReader(path).get_batch(range(20)).asnumpy()
    from_file = recognize(stage3_model, path)
    from_array = recognize(stage3_model, frames)
    np.testing.assert_allclose(from_file['all_scores'], from_array['all_scores'], rtol=1e-5,
                               atol=1e-7)
    assert from_file['labels'] == from_array['labels']


def test_deployed_model_zoo_tsn(tmp_path):
    """tools/deploy_anonymizer.py's wrapper (f_A in front of mmaction2's TSN): numpy clip
    and file give the same 400-class prediction, and f_A changed it."""
    cfg = put_anonymizer_in_front(TSN, dict(type='UNetAnonymizer', base_channels=4,
                                            num_stages=3))
    for step in cfg.test_pipeline:  # one 32-pixel crop of one frame: keep it fast
        if step['type'] == 'SampleFrames':
            step['num_clips'] = 1
        elif step['type'] == 'Resize':
            step['scale'] = (-1, 32)
        elif step['type'] == 'TenCrop':
            step.update(type='CenterCrop', crop_size=32)
    torch.manual_seed(0)
    model = init_recognizer(copy.deepcopy(cfg), device='cpu')
    with torch.no_grad():
        for p in model.data_preprocessor.anonymizer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    clip = _clip(t=8)
    out = recognize(model, clip, top_k=5)
    assert out['all_scores'].shape == (400, ) and len(out['labels']) == 5
    path = str(tmp_path / 'clip.mp4')
    write_video(path, clip, fps=10)
    assert recognize(model, path)['all_scores'].shape == (400, )
    with model.data_preprocessor.bypassed():
        raw = recognize(model, clip)
    assert np.abs(out['all_scores'] - raw['all_scores']).max() > 1e-6


def test_bad_input_is_named(stage3_model, tmp_path):
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\) uint8'):
        recognize(stage3_model, np.zeros((4, 32, 32), np.uint8))
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        recognize(stage3_model, str(tmp_path / 'nope.mp4'))
    with pytest.raises(TypeError, match='file path or a numpy clip'):
        recognize(stage3_model, [1, 2, 3])
    plain = init_recognizer(Config.fromfile(TSN), device='cpu')
    with pytest.raises(TypeError, match='no f_A in front'):
        recognize(plain, _clip())
