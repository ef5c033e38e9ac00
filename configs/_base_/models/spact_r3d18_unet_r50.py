# Paper-scale SPAct model (Sec. 5.2): UNet f_A, R3D-18 f_T, ResNet-50 f_B.
num_classes = 101
img_norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
anonymizer = dict(type='UNetAnonymizer', base_channels=64, num_stages=5)
data_preprocessor = dict(
    type='AnonymizerDataPreprocessor',
    anonymizer=anonymizer,
    preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW', **img_norm))
model = dict(
    type='SPActRecognizer',
    # R3D-18 (Hara et al.): 3x7x7 stem, no temporal down-sampling in the stem,
    # all residual blocks 3D.
    backbone=dict(
        type='ResNet3d', depth=18, pretrained=None, pretrained2d=False, base_channels=64,
        conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, inflate=(1, 1, 1, 1),
        norm_eval=False),
    cls_head=dict(type='I3DHead', num_classes=num_classes, in_channels=512,
                  dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
    privacy_head=dict(
        type='SSLPrivacyHead',
        backbone=dict(type='mmpretrain.ResNet', depth=50),
        neck=dict(type='mmpretrain.NonLinearNeck', in_channels=2048, hid_channels=2048,
                  out_channels=128, num_layers=2, with_avg_pool=True),
        loss=dict(type='NTXentLoss', temperature=0.1),
        frame_sampler=dict(mode='random')),
    data_preprocessor=data_preprocessor)
