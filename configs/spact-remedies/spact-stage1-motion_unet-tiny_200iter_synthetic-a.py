# Stage 1 (Eq. 4, identity) of the motion-aware f_A remedy: MotionUNetAnonymizer, the demo's
# tiny UNet fed each frame and its temporal difference (spact_mm/models/anonymizers/unet.py).
# Everything else is the demo's stage 1.
_base_ = ['../spact/spact-stage1_unet-tiny_200iter_synthetic-a.py']
motion_anonymizer = dict(type='MotionUNetAnonymizer', base_channels=16, num_stages=3)
model = dict(data_preprocessor=dict(anonymizer=dict(_delete_=True, **motion_anonymizer)))
