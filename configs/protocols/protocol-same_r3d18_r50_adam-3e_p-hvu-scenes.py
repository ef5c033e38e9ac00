# Table 1, "P-HVU" column Scenes: P-HVU same-dataset protocol (Sec. 4.1, 5.3) with the
# scene tags as privacy attributes.
# f'_T: as protocol-same_r3d18_r50_adam-3e_p-hvu-objects.py (P-HVU train -> test, 739
#   multi-label actions, classwise mAP); run only f'_B and reuse that f'_T figure:
#   --tasks privacy --reuse <objects run>/results.json
# f'_B: trained on f_A*(one random frame of each P-HVU train clip), tested on f_A*(the
#   middle frame of each P-HVU test clip), 248 multi-label scenes, cMAP (and F1).
# Data: data/hvu (tools/data/p_hvu/README.md).
_base_ = ['./protocol-same_r3d18_r50_adam-3e_p-hvu-objects.py']

protocol = dict(dataset='P-HVU/scenes', paper='Table 1: P-HVU action cMAP, scenes cMAP')
privacy = dict(
    model=dict(head=dict(num_classes=248)),
    train_dataloader=dict(paper_dataset='p_hvu_scenes', dataloader='train_dataloader'),
    val_dataloader=dict(paper_dataset='p_hvu_scenes', dataloader='test_dataloader'))
