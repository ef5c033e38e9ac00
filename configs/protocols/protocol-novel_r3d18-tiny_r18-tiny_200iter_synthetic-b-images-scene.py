# Novel action and novel privacy protocol (Sec. 4.3) on the synthetic dataset:
# f_A* was learned on action set A (and, for the supervised method, person
# attributes); the fresh f'_T is trained and tested on the disjoint action
# set B, the fresh f'_B on the disjoint scene attributes of the image set.
_base_ = ['../_base_/protocols/synthetic_r3d18-tiny_r18-tiny_200iter.py']
protocol = dict(name='novel', dataset='synthetic-b/images-scene')
action = dict(
    train_dataloader=dict(dataset=dict(
        ann_file='data/synthetic/annotations/privacy_videos_b_train.json')),
    val_dataloader=dict(dataset=dict(
        ann_file='data/synthetic/annotations/privacy_videos_b_val.json')))
privacy = dict(
    train_dataloader=dict(dataset=dict(attributes={{_base_.scene_attributes}})),
    val_dataloader=dict(dataset=dict(attributes={{_base_.scene_attributes}})))
