# Table 1, "PA-HMDB" columns: HMDB51-VISPR cross-dataset training, PA-HMDB evaluation
# (Sec. 4.2, 5.3; the protocol of Wu et al. [41]).
# f'_T: trained on f_A*(HMDB51 train split 1), tested on f_A*(PA-HMDB's 515 videos, HMDB51
#   labels), 10 clips per video, top-1.
# f'_B: trained on f_A*(VISPR train2017) with VISPR-1 grouped into PA-HMDB's 5 attributes
#   (skin colour, face, gender, nudity, relationship), tested on f_A*(every annotated
#   PA-HMDB frame) with its frame-level labels, cMAP and F1.
# Data: data/hmdb51 (tools/data/hmdb51/README.md), data/pa_hmdb
# (tools/data/pa_hmdb/README.md; videos read from data/hmdb51/videos), data/vispr
# (tools/data/vispr/README.md).
_base_ = ['../_base_/protocols/paper_r3d18_r50_adam.py']

protocol = dict(name='cross-dataset', dataset='HMDB51+VISPR/PA-HMDB', action_metric='top1',
                paper='Table 1: PA-HMDB top-1, cMAP and F1')
action = dict(
    model=dict(cls_head=dict(num_classes=51)),
    train_dataloader=dict(paper_dataset='hmdb51', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='pa_hmdb', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=13400))  # ~30 epochs of 3,570 clips at batch 8
privacy = dict(
    model=dict(head=dict(num_classes=5)),
    train_dataloader=dict(paper_dataset='vispr_pa_hmdb', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='pa_hmdb_frames', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=9400))  # ~30 epochs of 10,000 images at batch 32
