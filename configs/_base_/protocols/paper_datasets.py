# The real datasets of the paper's protocols (Sec. 4, 5.3, 5.4; Tables 1 and 2): a
# catalogue of the dataset base configs in configs/_base_/datasets, by name. A protocol
# config needs several of them (its f'_T side a video dataset, its f'_B side an image or
# frame dataset, sometimes a train and a test set of different datasets), and mmengine
# refuses two `_base_` files that define the same keys (every dataset base defines
# `train_dataloader`, ...). So a protocol config names the dataloader it wants:
#     train_dataloader=dict(paper_dataset='ucf101', dataloader='train_dataloader')
# and the protocol driver (spact_mm.evaluation.protocol.load_protocol_config, used by
# tools/eval_protocol.py and tools/privacy_audit.py) replaces it by that dataloader of
# the named base, as it is (pipelines, batch sizes, paths). One change is made on load:
# `image_channel_order='rgb'` loads VISPR images in RGB (LoadPrivacyImage
# channel_order='rgb'), so that every privacy input, VISPR image or decord video frame
# (PA-HMDB, P-HVU), reaches f_A and f'_B in the same channel order with one
# `to_rgb=False` data preprocessor (the HMDB51-VISPR -> PA-HMDB protocol trains f'_B on
# VISPR images and tests it on PA-HMDB frames).
#
# Where the data goes: tools/data/<name>/README.md (ucf101, hmdb51, pa_hmdb, vispr,
# p_hvu). Every path starts with `data/`, so `tools/eval_protocol.py --data-root
# /elsewhere` moves them all.
data_root = 'data'  # prefix of every path of the bases; replaced by `--data-root`
paper_datasets = dict(
    # f'_T: 16x112x112 clips, top-1 (UCF101, HMDB51, PA-HMDB) or multi-label (P-HVU)
    ucf101=dict(base='ucf101_official-split1_16x112x112'),  # official split 1, 101 classes
    hmdb51=dict(base='hmdb51_split1_16x112x112'),  # official split 1, 51 classes
    pa_hmdb=dict(base='pa_hmdb_16x112x112'),  # 515 videos, HMDB51 labels; test only
    p_hvu=dict(base='p_hvu_16x112x112'),  # 739 actions, multi-label
    # f'_B: 112x112 images / frames, multi-label
    vispr1=dict(base='vispr_vispr1_112x112', image_channel_order='rgb'),  # 7 attributes
    vispr2=dict(base='vispr_vispr2_112x112', image_channel_order='rgb'),  # 7 novel attributes
    vispr_pa_hmdb=dict(base='vispr_pa-hmdb-attributes_112x112',
                       image_channel_order='rgb'),  # PA-HMDB's 5 attributes
    pa_hmdb_frames=dict(base='pa_hmdb_frames_112x112'),  # PA-HMDB's 5 attributes; test only
    p_hvu_objects=dict(base='p_hvu_frames-objects_112x112'),  # 1678 objects
    p_hvu_scenes=dict(base='p_hvu_frames-scenes_112x112'),  # 248 scenes
)
