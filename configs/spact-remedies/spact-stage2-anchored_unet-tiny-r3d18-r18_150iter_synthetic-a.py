# Stage 2 (Eq. 7-8 with f_A frozen) of remedy 7 (anchored start); f_A from its stage 1
# (tools/analysis_tools/screen_remedies.sh passes the checkpoint).
_base_ = ['./spact-stage2-motion_unet-tiny-r3d18-r18_150iter_synthetic-a.py']
model = dict(data_preprocessor=dict(checkpoint='work_dirs/screen/train/anchored-stage1/final.pth'))
