# 64x64 pipelines of the synthetic evaluation protocols (the dataset is
# generated at 64x64 by default; the 32x32 protocols resize it down). A
# 64x64 protocol config inherits from its 32x32 sibling AND from this file, and
# puts these lists into its `action` and `privacy` dataloaders: mmengine
# replaces lists wholesale, so a frame-size variable in the 32x32 base could not
# reach the pipelines already built there. Keys end in `_64x64` so that they do
# not collide with the sibling's keys (mmengine forbids duplicate keys among
# bases). The tiny networks end in global pooling, so their heads
# (in_channels=128) are the same at 64 px.
frame_size_64x64 = (64, 64)
# f'_T: 8-frame clips (no flips: left/right is the label)
clip_pipeline_train_64x64 = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=frame_size_64x64, keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
clip_pipeline_test_64x64 = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=frame_size_64x64, keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# f'_B on the privacy image set (cross-dataset and novel protocols)
image_pipeline_64x64 = [
    dict(type='LoadPrivacyImage'),
    dict(type='mmpretrain.Resize', scale=frame_size_64x64),
    dict(type='mmpretrain.PackInputs')
]
# f'_B on one frame of each video (same-dataset protocol)
frame_pipeline_train_64x64 = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=frame_size_64x64, keep_ratio=False),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs')
]
frame_pipeline_test_64x64 = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=frame_size_64x64, keep_ratio=False),
    dict(type='ClipToImage'),
    dict(type='mmpretrain.PackInputs')
]
