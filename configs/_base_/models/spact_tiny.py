# Demo-width SPAct model for CPUs: narrow UNet f_A, R3D-18 f_T and ResNet-18
# f_B at 16 base channels, for 8x32x32 clips (a minimax step pair of a batch of 16 takes
# about 1.2 s on 2 CPU cores).
_base_ = ['./spact_r3d18_unet_r50.py']
num_classes = 4
anonymizer = dict(type='UNetAnonymizer', base_channels=16, num_stages=3)
data_preprocessor = dict(anonymizer=anonymizer)
model = dict(
    backbone=dict(base_channels=16),
    cls_head=dict(num_classes=num_classes, in_channels=128, dropout_ratio=0.2),
    privacy_head=dict(
        backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, stem_channels=16,
                      _delete_=True),
        neck=dict(in_channels=128, hid_channels=128, out_channels=64)),
    data_preprocessor=data_preprocessor)
