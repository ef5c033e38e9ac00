# Camera-sized f_A (issue 17), stage 2 (Eq. 7, 8): f_T and f_B on the output of the frozen
# camera f_A of this folder's stage 1 (the demo's stage 2 otherwise).
_base_ = [
    '../spact/spact-stage2_unet-tiny-r3d18-r18_150iter_synthetic-a.py',
    '../_base_/models/unet_camera.py'
]
stage1_work_dir = 'work_dirs/spact-stage1_unet-camera_200iter_synthetic-a'
model = dict(data_preprocessor=dict(anonymizer={{_base_.camera_anonymizer}},
                                    checkpoint=f'{stage1_work_dir}/final.pth'))
