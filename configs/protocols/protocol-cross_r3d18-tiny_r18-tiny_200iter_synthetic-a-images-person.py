# Cross-dataset protocol (Sec. 4.2) on the synthetic dataset: f'_T on action
# set A videos; f'_B on the separate privacy IMAGE set (frames of other clips,
# as VISPR is to UCF101), person attributes (the known group).
_base_ = ['../_base_/protocols/synthetic_r3d18-tiny_r18-tiny_200iter.py']
protocol = dict(name='cross-dataset', dataset='synthetic-a/images-person')
