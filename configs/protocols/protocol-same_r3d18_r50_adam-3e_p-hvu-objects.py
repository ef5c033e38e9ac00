# Table 1, "P-HVU" columns Action and Objects: P-HVU same-dataset protocol (Sec. 4.1, 5.3).
# f'_T: trained on f_A*(P-HVU train clips), tested on f_A*(P-HVU test clips), 739
#   multi-label actions (BCE), 10 clips per video, classwise mAP.
# f'_B: trained on f_A*(one random frame of each P-HVU train clip), tested on f_A*(the
#   middle frame of each P-HVU test clip), 1678 multi-label objects, cMAP (and F1).
# P-HVU train/test = HVU train/val clips that carry action, object and scene tags (our
# reading of Sec. 5.1, see spact_mm/datasets/hvu.py). Class counts = the action / object
# / scene tags of HVU_Tags_Categories_V1.0.csv (739 / 1678 / 248, as Sec. 5.1); another
# tag file needs other num_classes. The Scenes column:
# protocol-same_r3d18_r50_adam-3e_p-hvu-scenes.py.
# Data: data/hvu (tools/data/p_hvu/README.md).
_base_ = ['../_base_/protocols/paper_r3d18_r50_adam.py']

protocol = dict(name='same-dataset', dataset='P-HVU/objects', action_metric='cmap',
                paper='Table 1: P-HVU action cMAP, objects cMAP')
action = dict(
    model=dict(cls_head=dict(
        num_classes=739, multi_class=True, loss_cls=dict(type='BCELossWithLogits'),
        average_clips='score')),  # mean logit over clips (a softmax would couple classes)
    train_dataloader=dict(paper_dataset='p_hvu', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='p_hvu', dataloader='test_dataloader'),
    # scores are logits: thr=0 is a sigmoid probability of 0.5 for the F1 it also reports
    val_evaluator=dict(_delete_=True, type='ClasswiseMultiLabelMetric', prefix='action',
                       thr=0.0),
    train_cfg=dict(max_iters=92000),  # ~3 epochs of 245,212 clips at batch 8
    metric_key='action/cmap', metric_scale=1., figure='action_cmap')  # cMAP is in % already
privacy = dict(
    model=dict(head=dict(num_classes=1678)),
    train_dataloader=dict(paper_dataset='p_hvu_objects', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='p_hvu_objects', dataloader='test_dataloader'),
    train_cfg=dict(max_iters=23000))  # ~3 epochs of 245,212 frames at batch 32
