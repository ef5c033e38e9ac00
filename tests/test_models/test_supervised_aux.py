"""SupervisedPrivacyHead of [41] on auxiliary privacy images (cross-dataset training,
Sec. 4.2): step-2 BCE and step-1 entropy against float64 references, the reversed
gradient reaching f_A through the images, errors, and a 2-iteration Runner train of the
synthetic cross config."""
import contextlib
import copy
import io
import math
from pathlib import Path

import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.config import Config

from spact_mm.models.heads import SupervisedPrivacyHead
from spact_mm.registry import MODELS
from spact_mm.utils.compat import set_gt_label

ROOT = Path(__file__).resolve().parents[2]
BACKBONE = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, stem_channels=8)
CROSS_CFG = ROOT / ('configs/supervised/supervised-wu_unet-tiny-r3d18-r18_minimax-150iter_'
                    'synthetic-a-images-person.py')


def _head(**kw) -> SupervisedPrivacyHead:
    torch.manual_seed(0)
    return SupervisedPrivacyHead(num_attributes=3, backbone=BACKBONE, in_channels=64, **kw)


def _samples(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        s = set_gt_label(ActionDataSample(), torch.tensor([0]))
        s.set_field((torch.rand(3, generator=g) < 0.5).float(), 'aux_privacy_label')
        out.append(s)
    return out


def _bce64(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean binary cross entropy, straight from its definition, in float64."""
    p = torch.sigmoid(z.double())
    y = y.double()
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def _entropy64(z: torch.Tensor) -> torch.Tensor:
    """Mean binary entropy -p log p - (1-p) log(1-p), in float64."""
    p = torch.sigmoid(z.double())
    return (-(p * p.log()) - (1 - p) * (1 - p).log()).mean()


@pytest.mark.parametrize('views', [1, 2])
def test_step2_bce_on_aux_images(views):
    head = _head(num_frames=2).eval()  # eval: BN uses running statistics
    head.minimax_phase = 'adversary'
    aux = torch.randn(3, views, 3, 16, 16)
    samples = _samples(3, seed=1)
    clips = torch.randn(3, 1, 3, 4, 16, 16)
    out = head.loss(clips, samples, aux_inputs=aux)
    # reference: every view of image i is labelled with sample i's aux_privacy_label
    z = head.logits(aux.flatten(0, 1))[0]
    y = torch.stack([s.aux_privacy_label for s in samples]).repeat_interleave(views, 0)
    assert float(out['loss_privacy']) == pytest.approx(float(_bce64(z, y)), rel=1e-5)
    # the clips do not reach f_B in this mode
    other = head.loss(torch.randn_like(clips), samples, aux_inputs=aux)
    assert float(other['loss_privacy']) == float(out['loss_privacy'])
    # 4-D (N', C, H, W) is one view per image
    if views == 1:
        flat = head.loss(clips, samples, aux_inputs=aux[:, 0])
        assert float(flat['loss_privacy']) == pytest.approx(float(out['loss_privacy']), rel=1e-6)


def test_step2_ensemble_sums_bce():
    head = _head(num_models=2).eval()
    aux = torch.randn(2, 1, 3, 16, 16)
    samples = _samples(2, seed=2)
    z = head.logits(aux.flatten(0, 1))
    y = torch.stack([s.aux_privacy_label for s in samples])
    ref = sum(float(_bce64(zz, y)) for zz in z)
    out = head.loss(None, samples, aux_inputs=aux)
    assert float(out['loss_privacy']) == pytest.approx(ref, rel=1e-5)


def test_step1_entropy_on_aux_images_and_reversed_gradient():
    head = _head().eval()
    head.minimax_phase = 'anonymizer'
    head.grad_reverse.weight = 0.5
    aux = torch.randn(3, 1, 3, 16, 16, requires_grad=True)
    out = head.loss(torch.randn(3, 1, 3, 4, 16, 16), [ActionDataSample()] * 3, aux_inputs=aux)
    ref_in = aux.detach().clone().requires_grad_(True)
    h_ref = _entropy64(head.logits(ref_in.flatten(0, 1))[0])
    assert float(out['loss_privacy']) == pytest.approx(float(h_ref), rel=1e-5)
    assert 0 < float(h_ref) <= math.log(2)
    out['loss_privacy'].backward()
    h_ref.backward()
    # f_A's images receive -w * grad(H): f_A maximises the entropy (budget loss of [41])
    torch.testing.assert_close(aux.grad, -0.5 * ref_in.grad.float(), rtol=1e-4, atol=1e-8)


def test_gradient_reaches_f_a_through_the_aux_images():
    """Through the whole model: AnonymizerDataPreprocessor anonymizes the privacy images with
    f_A, the head's step-1 loss sends f_A the reversed gradient of the entropy."""
    from conftest import make_batch, tiny_model_cfg

    cfg = tiny_model_cfg()
    cfg['privacy_head'] = dict(type='SupervisedPrivacyHead', num_attributes=3,
                               backbone=BACKBONE, in_channels=64)
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    batch = make_batch(n=2, t=4, size=16)
    g = torch.Generator().manual_seed(0)
    batch['aux_inputs'] = [torch.randint(0, 256, (1, 3, 16, 16), dtype=torch.uint8, generator=g)
                           for _ in range(2)]
    head = model.privacy_head
    head.minimax_phase = 'anonymizer'
    head.grad_reverse.weight = 0.25
    params = [p for p in model.data_preprocessor.anonymizer.parameters()]

    data = model.data_preprocessor(copy.deepcopy(batch), True)
    loss = head.loss(data['inputs'], data['data_samples'], aux_inputs=data['aux_inputs'])
    grads = torch.autograd.grad(loss['loss_privacy'], params)
    # reference: the entropy of f_B on f_A(images), no reversal layer
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    h = _entropy64(head.logits(data['aux_inputs'].flatten(0, 1))[0])
    ref = torch.autograd.grad(h, params)
    assert any(float(r.abs().max()) > 0 for r in ref)
    for got, want in zip(grads, ref):
        torch.testing.assert_close(got, -0.25 * want.float(), rtol=1e-3, atol=1e-9)


def test_aux_errors():
    head = _head()
    head.minimax_phase = 'adversary'
    with pytest.raises(KeyError, match='aux_privacy_label'):
        head.loss(None, [ActionDataSample() for _ in range(2)],
                  aux_inputs=torch.randn(2, 1, 3, 16, 16))
    with pytest.raises(ValueError, match='3 privacy images but 2'):
        head.loss(None, _samples(2), aux_inputs=torch.randn(3, 1, 3, 16, 16))
    with pytest.raises(ValueError, match='aux_inputs must have shape'):
        head.loss(None, _samples(2), aux_inputs=torch.randn(2, 3, 16))


def test_runner_trains_the_synthetic_cross_config(tmp_path):
    """Two minimax iterations (one step 1, one step 2) of the cross-dataset config through
    mmengine's Runner: finite losses, f_A changed by step 1, f_B by step 2."""
    import cv2  # noqa: F401  (before decord)
    from mmengine.runner import Runner

    from spact_mm.datasets.synthetic import generate_synthetic_dataset

    data = str(tmp_path / 'data')
    with contextlib.redirect_stdout(io.StringIO()):
        generate_synthetic_dataset(data, seed=0, videos_per_class=1, val_videos_per_class=1,
                                   num_frames=8, size=32)
    cfg = Config.fromfile(str(CROSS_CFG))
    loader = cfg.train_dataloader
    assert loader.dataset.type == 'ActionPrivacyPairDataset'
    action, privacy = loader.dataset.action, loader.dataset.privacy
    action.ann_file = f'{data}/annotations/actions_a_train.txt'
    action.data_prefix = dict(video=data)
    privacy.data_root = data
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.load_from = None
    cfg.model.pop('init_cfg', None)  # nor the stage-2 hand-over (model init)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 100
    runner = Runner.from_cfg(cfg)
    model = runner.model
    f_a0 = {k: v.detach().clone() for k, v in
            model.data_preprocessor.anonymizer.named_parameters()}
    f_b0 = {k: v.detach().clone() for k, v in model.privacy_head.named_parameters()}
    losses = []
    original = model.privacy_head.loss

    def record(*args, **kwargs):
        assert kwargs.get('aux_inputs') is not None  # the paired images reach the head
        out = original(*args, **kwargs)
        losses.append((model.privacy_head.minimax_phase, float(out['loss_privacy'])))
        return out

    model.privacy_head.loss = record
    runner.train()
    assert [p for p, _ in losses] == ['anonymizer', 'adversary']
    assert all(math.isfinite(v) for _, v in losses)
    hub = runner.message_hub
    for key in ('train/loss', 'train/loss_cls', 'train/loss_privacy'):
        assert math.isfinite(hub.get_scalar(key).current()), key
    # parameters only (BN running statistics also move in the other step's forward pass)
    assert any(not torch.equal(f_a0[k], v)
               for k, v in model.data_preprocessor.anonymizer.named_parameters())
    assert any(not torch.equal(f_b0[k], v) for k, v in model.privacy_head.named_parameters())
