# Table 2, column "UCF->PA-HMDB": novel action protocol (Sec. 4.3, 5.4) tested on PA-HMDB.
# f_A* was learned on UCF101 (and, for [41], VISPR-1 labels).
# f'_T: trained on f_A*(HMDB51 train split 1), tested on f_A*(PA-HMDB's 515 videos, HMDB51
#   labels), 10 clips per video, top-1.
# f'_B: the novel privacy side of the same protocol, VISPR1->VISPR2, as in
#   protocol-novel_r3d18_r50_adam-30e_ucf101-hmdb51_vispr1-vispr2.py (the table has no
#   privacy column here): run only f'_T and reuse that figure:
#   --tasks action --reuse <ucf101-hmdb51 run>/results.json
# Data: data/hmdb51 (tools/data/hmdb51/README.md), data/pa_hmdb
# (tools/data/pa_hmdb/README.md), data/vispr (tools/data/vispr/README.md).
# (Written out rather than inherited from the HMDB51 config: merging a PA-HMDB loader into
# an HMDB51 one would keep HMDB51-only keys such as `split`.)
_base_ = ['../_base_/protocols/paper_r3d18_r50_adam.py']

protocol = dict(name='novel', dataset='UCF101->PA-HMDB/VISPR1->VISPR2', action_metric='top1',
                paper='Table 2: UCF->PA-HMDB top-1')
action = dict(
    model=dict(cls_head=dict(num_classes=51)),
    train_dataloader=dict(paper_dataset='hmdb51', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='pa_hmdb', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=13400))  # ~30 epochs of 3,570 clips at batch 8
privacy = dict(
    model=dict(head=dict(num_classes=7)),
    train_dataloader=dict(paper_dataset='vispr2', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='vispr2', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=9400))  # ~30 epochs of 10,000 images at batch 32
