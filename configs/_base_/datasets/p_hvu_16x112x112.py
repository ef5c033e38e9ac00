# P-HVU multi-label action recognition (spact_mm.PHVUDataset, label_category='action'):
# the utility task of the P-HVU protocols (Tables 1 and 2), 16-frame 112x112 clips,
# classwise mAP. Train = HVU train CSV, test = HVU val CSV, both restricted to clips
# with action, object and scene tags (our reading of Sec. 5.1, see spact_mm/datasets/hvu.py).
# Data layout and preparation: tools/data/p_hvu/README.md
#   data/hvu/annotations/{HVU_Train_V1.0.csv, HVU_Val_V1.0.csv, HVU_Tags_Categories_V1.0.csv}
#   data/hvu/videos_{train,val}/<youtube_id>_<start*10:06d>_<end*10:06d>.mp4
_base_ = ['./ucf101_16x112x112.py']

dataset_type = 'PHVUDataset'
data_root = 'data/hvu'
category_file = 'annotations/HVU_Tags_Categories_V1.0.csv'
ann_file_train = 'annotations/HVU_Train_V1.0.csv'
ann_file_val = 'annotations/HVU_Val_V1.0.csv'
label_category = 'action'

train_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=ann_file_train,
                 category_file=category_file, label_category=label_category,
                 data_prefix=dict(video='videos_train'), pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=ann_file_val,
                 category_file=category_file, label_category=label_category,
                 data_prefix=dict(video='videos_val'), pipeline={{_base_.val_pipeline}},
                 test_mode=True))
test_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=ann_file_val,
                 category_file=category_file, label_category=label_category,
                 data_prefix=dict(video='videos_val'), pipeline={{_base_.test_pipeline}},
                 test_mode=True))
val_evaluator = dict(_delete_=True, type='AccMetric', metric_list=('mean_average_precision', ))
test_evaluator = val_evaluator
