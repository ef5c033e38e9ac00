# Demo-width learned face anonymizer (Ren et al., ECCV 2018, our training design):
# modifier M on 32x32 face crops (FaceAnonymizer), R3D-18 f_T at 16 base channels, and the
# identity discriminator D (FaceIdentityHead: ResNet-18 at 16 channels + ArcFace margin).
# Face boxes: the samples' ground truth when PackFaceInputs provides them, else OpenCV's
# Haar cascade (real video, tools/anonymize_video.py).
_base_ = ['./spact_tiny.py']
num_classes = 4
identity_classes = 24  # identities of the training set (D)
anonymizer = dict(
    type='FaceAnonymizer',
    modifier=dict(type='FaceModifier', channels=16, num_blocks=3),
    crop_size=32,
    feather=0.15,
    blend='residual',
    l1_weight=1.0,  # weight of the L1 term on the modification |M(c) - c|
    detector=dict(type='HaarFaceDetector'),
    expand=1.2,
    max_gap=2)
data_preprocessor = dict(
    _delete_=True,
    type='FaceAnonymizerDataPreprocessor',
    anonymizer=anonymizer,
    preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW',
                      mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))
model = dict(
    cls_head=dict(num_classes=num_classes),
    privacy_head=dict(
        _delete_=True,
        type='FaceIdentityHead',
        num_identities=identity_classes,
        backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16,
                      strides=(1, 2, 2, 1)),
        in_channels=128,
        embed_dim=64,
        crop_size=32,
        num_frames=2,
        scale=16.,
        margin=0.3,
        step1_objective='ce'),
    data_preprocessor=data_preprocessor)
