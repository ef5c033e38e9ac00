# P-HVU frames labelled with the clip's SCENE tags (PHVUDataset,
# privacy_category='scene'): Table 1 "Scenes" and the novel-privacy protocol of
# Table 2 (Scenes -> Objects). Layout: tools/data/p_hvu/README.md
_base_ = ['./p_hvu_frames-objects_112x112.py']

privacy_category = 'scene'
train_dataloader = dict(dataset=dict(privacy_category=privacy_category))
val_dataloader = dict(dataset=dict(privacy_category=privacy_category))
test_dataloader = val_dataloader
