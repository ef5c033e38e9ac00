# PA-HMDB videos (spact_mm.PAHMDBDataset): the action test set X_action^e of the
# HMDB51-VISPR -> PA-HMDB protocol (Table 1; labels are HMDB51 class indices, so an
# HMDB51-trained f'_T evaluates directly), 16-frame 112x112 clips.
# Data layout and preparation: tools/data/pa_hmdb/README.md
#   data/hmdb51/videos/<class>/<video>.avi            (the HMDB51 videos)
#   data/pa_hmdb/PrivacyAttributes/<action>.json      (VITA-Group/PA-HMDB51)
_base_ = ['./ucf101_16x112x112.py']

dataset_type = 'PAHMDBDataset'
ann_file = 'data/pa_hmdb/PrivacyAttributes'
video_prefix = dict(video='data/hmdb51/videos')

# PA-HMDB is an evaluation set: no training split.
train_dataloader = None
val_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, ann_file=ann_file, data_prefix=video_prefix,
                 pipeline={{_base_.val_pipeline}}, test_mode=True))
test_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, ann_file=ann_file, data_prefix=video_prefix,
                 pipeline={{_base_.test_pipeline}}, test_mode=True))
