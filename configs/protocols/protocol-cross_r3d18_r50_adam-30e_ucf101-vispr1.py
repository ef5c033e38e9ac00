# Table 1, "UCF101 / VISPR1" columns: UCF101-VISPR cross-dataset protocol (Sec. 4.2, 5.3).
# f'_T: trained on f_A*(UCF101 train split 1), tested on f_A*(UCF101 test split 1),
#   10 clips per video, top-1.
# f'_B: trained on f_A*(VISPR train2017), tested on f_A*(VISPR test2017), the 7 VISPR-1
#   attributes of Wu et al. [41], cMAP and F1.
# Data: data/ucf101 (tools/data/ucf101/README.md), data/vispr (tools/data/vispr/README.md).
_base_ = ['../_base_/protocols/paper_r3d18_r50_adam.py']

protocol = dict(name='cross-dataset', dataset='UCF101/VISPR1', action_metric='top1',
                paper='Table 1: UCF101 top-1, VISPR1 cMAP and F1')
action = dict(
    model=dict(cls_head=dict(num_classes=101)),
    train_dataloader=dict(paper_dataset='ucf101', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='ucf101', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=36000))  # ~30 epochs of 9,537 clips at batch 8
privacy = dict(
    model=dict(head=dict(num_classes=7)),
    train_dataloader=dict(paper_dataset='vispr1', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='vispr1', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=9400))  # ~30 epochs of 10,000 images at batch 32
