# Camera-sized f_A (issue 17), stage 1 (Eq. 4, 6): the demo's stage 1 with the lighter
# f_A of _base_/models/unet_camera.py, meant to anonymize 640x480 camera frames at >= 25
# frames/s through ONNX Runtime on 2 CPU cores (figures: docs/benchmark.md, "Anonymize at
# the camera"). Stages 2 and 3 of this folder continue from its final.pth.
_base_ = [
    '../spact/spact-stage1_unet-tiny_200iter_synthetic-a.py',
    '../_base_/models/unet_camera.py'
]
model = dict(data_preprocessor=dict(anonymizer={{_base_.camera_anonymizer}}))
