# Stage 2 (Eq. 7-8 with f_A frozen) of the motion-aware f_A remedy; f_A from its stage 1
# (tools/analysis_tools/screen_remedies.sh passes the checkpoint). Else the demo's stage 2.
_base_ = ['../spact/spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a.py']
motion_anonymizer = dict(type='MotionUNetAnonymizer', base_channels=16, num_stages=3)
model = dict(data_preprocessor=dict(
    anonymizer=dict(_delete_=True, **motion_anonymizer),
    checkpoint='work_dirs/screen/train/motion-stage1/final.pth'))
