"""Resuming from the checkpoint of the last training step (issue 16, item 13).

mmengine's train loop writes the checkpoint of the last iteration (or epoch),
then validates. A run killed in between and resumed has nothing left to train,
so the loop never validated: the final validation (and ``save_best``, early
stopping, the privacy probe, which act on it) was lost. ``ResumeStateHook``
now runs it. Tiny ``Runner`` runs of a toy model on CPU, iteration- and
epoch-based; the toy's validation score draws from the global torch generator,
so it is equal to the uninterrupted run's only if the generators are too.
"""
import os.path as osp
import shutil
import uuid

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

import spact_mm  # noqa: F401  (registers the hooks)
from spact_mm.utils import load_checkpoint_safely
from spact_mm.utils.checkpoint import (
    register_checkpoint_safe_types,
    register_safe_checkpoint_loaders,
)


@pytest.fixture(autouse=True, scope='module')
def safe_resume():
    """What the configs' ``custom_imports`` and our tools do: mmengine's resume loads
    with ``weights_only=True`` and knows its plain-data types (torch >= 2.6)."""
    register_checkpoint_safe_types()
    register_safe_checkpoint_loaders()


class ToyModel(BaseModel):
    """y = w x + b, trained towards 0; its validation score adds a draw of torch.rand."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        out = self.lin(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=(out ** 2).mean())
        return [dict(score=float(o) + float(torch.rand(()))) for o in out]


class ToyMetric(BaseMetric):
    def process(self, data_batch, data_samples) -> None:
        self.results.extend(s['score'] for s in data_samples)

    def compute_metrics(self, results) -> dict:
        return dict(score=sum(results) / len(results))


class ValRecorder(Hook):
    """Every validation's step and metrics."""

    def __init__(self) -> None:
        self.runs = []

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.runs.append((runner.iter, runner.epoch, dict(metrics)))


def run(work_dir: str, by_epoch: bool, resume: bool = False):
    """Train 4 iterations (or 2 epochs of 2 iterations), checkpoint every 2 (every
    epoch), validate at 2 and 4 (every epoch); return the validations."""
    data = [dict(inputs=torch.randn(2, generator=torch.Generator().manual_seed(i)))
            for i in range(4)]
    loader = dict(dataset=data, batch_size=2, collate_fn=dict(type='pseudo_collate'))
    recorder = ValRecorder()
    train_cfg = (dict(by_epoch=True, max_epochs=2, val_interval=1) if by_epoch else
                 dict(by_epoch=False, max_iters=4, val_interval=2))
    runner = Runner(
        model=ToyModel(), work_dir=work_dir, experiment_name=f'toy_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=True)),
        val_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=[ToyMetric()], train_cfg=train_cfg, val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=by_epoch,
                                           interval=1 if by_epoch else 2)),
        custom_hooks=[dict(type='ResumeStateHook'), dict(type='FinalCheckpointHook'),
                      recorder],
        randomness=dict(seed=0), default_scope='spact_mm', resume=resume)
    runner.train()
    return recorder.runs


def killed_after(src: str, dst: str, ckpt: str) -> str:
    """``dst``: the work dir of a run killed right after writing ``ckpt`` (only that
    checkpoint, ``last_checkpoint`` naming it; no ``final.pth``)."""
    shutil.os.makedirs(dst)
    shutil.copy(osp.join(src, ckpt), osp.join(dst, ckpt))
    with open(osp.join(dst, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(dst, ckpt))
    return dst


def same_weights(a: str, b: str) -> bool:
    sa, sb = load_checkpoint_safely(a)['state_dict'], load_checkpoint_safely(b)['state_dict']
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize('by_epoch,last,middle', [(False, 'iter_4.pth', 'iter_2.pth'),
                                                  (True, 'epoch_2.pth', 'epoch_1.pth')])
def test_resume_at_the_end_runs_the_final_validation(tmp_path, by_epoch, last, middle):
    full = run(str(tmp_path / 'full'), by_epoch)
    assert len(full) == 2  # validations after steps 2 and 4 (epochs 1 and 2)

    at_end = run(killed_after(str(tmp_path / 'full'), str(tmp_path / 'end'), last), by_epoch,
                 resume=True)
    assert at_end == full[-1:]  # once, same step, same score (same weights and generators)
    assert same_weights(str(tmp_path / 'full' / 'final.pth'), str(tmp_path / 'end' / 'final.pth'))

    # A resume before the end: the loop's own validation, not a second one.
    mid = run(killed_after(str(tmp_path / 'full'), str(tmp_path / 'mid'), middle), by_epoch,
              resume=True)
    assert [(i, e) for i, e, _ in mid] == [(i, e) for i, e, _ in full[-1:]]


def test_resume_at_the_end_without_a_validation_loop(tmp_path):
    """No val_dataloader: nothing is run, final.pth is still written."""
    data = [dict(inputs=torch.randn(2)) for _ in range(4)]
    loader = dict(dataset=data, batch_size=2, collate_fn=dict(type='pseudo_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False))

    def runner(work_dir, resume):
        return Runner(
            model=ToyModel(), work_dir=work_dir, experiment_name=f'toy_{uuid.uuid4().hex[:8]}',
            train_dataloader=loader,
            train_cfg=dict(by_epoch=False, max_iters=2),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2)),
            custom_hooks=[dict(type='ResumeStateHook'), dict(type='FinalCheckpointHook')],
            default_scope='spact_mm', resume=resume)

    runner(str(tmp_path / 'full'), False).train()
    runner(killed_after(str(tmp_path / 'full'), str(tmp_path / 'end'), 'iter_2.pth'),
           True).train()
    assert same_weights(str(tmp_path / 'full' / 'final.pth'), str(tmp_path / 'end' / 'final.pth'))
