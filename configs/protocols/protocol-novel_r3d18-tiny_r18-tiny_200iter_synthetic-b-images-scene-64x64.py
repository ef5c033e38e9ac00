# Novel action and novel privacy protocol (Sec. 4.3) on the synthetic dataset
# at 64x64: as protocol-novel_..._synthetic-b-images-scene.py (32x32), with
# 8x64x64 clips for f'_T and 64x64 images for f'_B. The data must be generated
# at --size 64 (the default) or larger.
_base_ = [
    './protocol-novel_r3d18-tiny_r18-tiny_200iter_synthetic-b-images-scene.py',
    '../_base_/protocols/synthetic_pipelines_64x64.py'
]
protocol = dict(dataset='synthetic-b/images-scene/64x64')
action = dict(
    train_dataloader=dict(dataset=dict(pipeline={{_base_.clip_pipeline_train_64x64}})),
    val_dataloader=dict(dataset=dict(pipeline={{_base_.clip_pipeline_test_64x64}})))
privacy = dict(
    train_dataloader=dict(dataset=dict(pipeline={{_base_.image_pipeline_64x64}})),
    val_dataloader=dict(dataset=dict(pipeline={{_base_.image_pipeline_64x64}})))
