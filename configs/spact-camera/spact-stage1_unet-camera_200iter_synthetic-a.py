# Camera-sized f_A (issue 17), stage 1 (Eq. 4, 6): the demo's stage 1 with a lighter UNet,
# meant to anonymize 640x480 camera frames at >= 25 frames/s through ONNX Runtime on 2
# CPU cores (figures: docs/benchmark.md, "Anonymize at the camera"). Same 3 levels as the
# demo f_A, a quarter of its width (4 base channels: 4 -> 8 -> 16), so 1/15 of its
# convolution FLOPs (torch.utils.flop_counter: 1.14 GFLOP per 640x480 frame against 17.3).
# Stages 2 and 3 of this folder continue from its final.pth.
_base_ = ['../spact/spact-stage1_unet-tiny_200iter_synthetic-a.py']
camera_anonymizer = dict(type='UNetAnonymizer', base_channels=4, num_stages=3)
model = dict(data_preprocessor=dict(anonymizer=camera_anonymizer))
