# The real datasets of the paper's protocols (Sec. 4, 5.3, 5.4; Tables 1 and 2),
# gathered from configs/_base_/datasets under ONE key, `paper_datasets`, so that a
# protocol config can use several of them: its f'_T side needs a video dataset, its
# f'_B side an image (or frame) dataset, sometimes a train and a test set of
# different datasets. mmengine refuses two `_base_` files that define the same key,
# and every dataset base defines `train_dataloader`, `val_dataloader`, ..., so the
# dataset bases are loaded here with `Config.fromfile` instead of being inherited
# (mmengine accepts `from mmengine import Config` in a non-lazy config and drops
# functions and names starting with `__` from the result). Protocol configs then
# reference them the usual way: `{{_base_.paper_datasets.ucf101.train_dataloader}}`.
#
# Each entry is the dataset base config as it is (pipelines, batch sizes, paths);
# the only change: VISPR images are loaded in RGB (LoadPrivacyImage
# channel_order='rgb') so that every privacy input, VISPR image or decord video
# frame (PA-HMDB, P-HVU), reaches f_A and f'_B in the same channel order with one
# `to_rgb=False` data preprocessor (the HMDB51-VISPR -> PA-HMDB protocol trains
# f'_B on VISPR images and tests it on PA-HMDB frames).
#
# Where the data goes: tools/data/<name>/README.md (ucf101, hmdb51, pa_hmdb, vispr,
# p_hvu). Every path starts with `data/`, so `tools/eval_protocol.py --data-root
# /elsewhere` moves them all.
data_root = 'data'  # prefix of every path below; replaced by `--data-root`
__dir = '{{ fileDirname }}/../datasets'


def __load(name: str, rgb_images: bool = False) -> dict:
    from mmengine import Config

    cfg = Config.fromfile(f'{__dir}/{name}.py').to_dict()
    if rgb_images:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            dataset = cfg[key]['dataset']
            dataset['pipeline'] = [
                dict(t, channel_order='rgb') if t['type'] == 'LoadPrivacyImage' else t
                for t in dataset['pipeline']
            ]
    return cfg


paper_datasets = dict(
    # f'_T: 16x112x112 clips, top-1 (UCF101, HMDB51, PA-HMDB) or multi-label (P-HVU)
    ucf101=__load('ucf101_official-split1_16x112x112'),  # official split 1, 101 classes
    hmdb51=__load('hmdb51_split1_16x112x112'),  # official split 1, 51 classes
    pa_hmdb=__load('pa_hmdb_16x112x112'),  # 515 videos, HMDB51 labels; test only
    p_hvu=__load('p_hvu_16x112x112'),  # 739 actions, multi-label
    # f'_B: 112x112 images / frames, multi-label
    vispr1=__load('vispr_vispr1_112x112', rgb_images=True),  # 7 attributes
    vispr2=__load('vispr_vispr2_112x112', rgb_images=True),  # 7 novel attributes
    vispr_pa_hmdb=__load('vispr_pa-hmdb-attributes_112x112', rgb_images=True),  # 5 classes
    pa_hmdb_frames=__load('pa_hmdb_frames_112x112'),  # PA-HMDB's 5 attributes; test only
    p_hvu_objects=__load('p_hvu_frames-objects_112x112'),  # 1678 objects
    p_hvu_scenes=__load('p_hvu_frames-scenes_112x112'),  # 248 scenes
)
