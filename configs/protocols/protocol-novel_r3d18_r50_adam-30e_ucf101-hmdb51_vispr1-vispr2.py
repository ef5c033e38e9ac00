# Table 2, columns "UCF->HMDB" and "VISPR1->VISPR2" (the two axes of Fig. 4): novel action
# and novel privacy attributes protocol (Sec. 4.3, 5.4). f_A* was learned on UCF101 (and,
# for the supervised method [41], VISPR-1 labels); the fresh models see disjoint classes:
# f'_T: trained on f_A*(HMDB51 train split 1), tested on f_A*(HMDB51 test split 1),
#   51 classes, 10 clips per video, top-1.
# f'_B: trained on f_A*(VISPR train2017), tested on f_A*(VISPR test2017), the 7 VISPR-2
#   attributes (our unverified recollection of the paper's Supp. Table 1, see
#   configs/_base_/datasets/vispr_vispr2_112x112.py), cMAP and F1.
# Data: data/hmdb51 (tools/data/hmdb51/README.md), data/vispr (tools/data/vispr/README.md).
_base_ = ['../_base_/protocols/paper_r3d18_r50_adam.py']

protocol = dict(name='novel', dataset='UCF101->HMDB51/VISPR1->VISPR2', action_metric='top1',
                paper='Table 2: UCF->HMDB top-1, VISPR1->VISPR2 cMAP and F1; Fig. 4')
action = dict(
    model=dict(cls_head=dict(num_classes=51)),
    train_dataloader=dict(paper_dataset='hmdb51', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='hmdb51', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=13400))  # ~30 epochs of 3,570 clips at batch 8
privacy = dict(
    model=dict(head=dict(num_classes=7)),
    train_dataloader=dict(paper_dataset='vispr2', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='vispr2', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=9400))  # ~30 epochs of 10,000 images at batch 32
