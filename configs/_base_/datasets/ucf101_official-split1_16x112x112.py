# UCF101 split 1 read from the OFFICIAL split files (spact_mm.UCF101Dataset), as
# 16-frame 112x112 clips (f_T's input in the paper). Same labels as the
# mmaction2-list variant ucf101_16x112x112.py, without generating lists.
# Data layout and preparation: tools/data/ucf101/README.md
#   data/ucf101/videos/<Class>/v_<Class>_gXX_cYY.avi
#   data/ucf101/annotations/{classInd.txt, trainlist0N.txt, testlist0N.txt}
_base_ = ['./ucf101_16x112x112.py']

dataset_type = 'UCF101Dataset'
data_root = 'data/ucf101'
split = 1
class_index_file = 'annotations/classInd.txt'
ann_file_train = f'annotations/trainlist0{split}.txt'
ann_file_val = f'annotations/testlist0{split}.txt'
video_prefix = dict(video='videos')

train_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=ann_file_train,
                 class_index_file=class_index_file, data_prefix=video_prefix,
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=ann_file_val,
                 class_index_file=class_index_file, data_prefix=video_prefix,
                 pipeline={{_base_.val_pipeline}}, test_mode=True))
test_dataloader = dict(
    dataset=dict(_delete_=True, type=dataset_type, data_root=data_root, ann_file=ann_file_val,
                 class_index_file=class_index_file, data_prefix=video_prefix,
                 pipeline={{_base_.test_pipeline}}, test_mode=True))
