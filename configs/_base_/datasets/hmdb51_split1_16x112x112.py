# HMDB51 split 1 read from the OFFICIAL per-class split files (spact_mm.HMDB51Dataset),
# 16-frame 112x112 clips: the novel-action set of Table 2 (UCF101 -> HMDB51) and the
# action training set of the HMDB51-VISPR -> PA-HMDB protocol (Table 1).
# Data layout and preparation: tools/data/hmdb51/README.md
#   data/hmdb51/videos/<class>/<video>.avi
#   data/hmdb51/annotations/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
_base_ = ['./ucf101_16x112x112.py']  # same clip sampling and augmentation as UCF101

dataset_type = 'HMDB51Dataset'
data_root = 'data/hmdb51'
split = 1
split_dir = 'annotations/testTrainMulti_7030_splits'
video_prefix = dict(video='videos')

train_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=split_dir,
                 split=split, subset='train', data_prefix=video_prefix,
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=split_dir,
                 split=split, subset='test', data_prefix=video_prefix,
                 pipeline={{_base_.val_pipeline}}, test_mode=True))
test_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=split_dir,
                 split=split, subset='test', data_prefix=video_prefix,
                 pipeline={{_base_.test_pipeline}}, test_mode=True))
