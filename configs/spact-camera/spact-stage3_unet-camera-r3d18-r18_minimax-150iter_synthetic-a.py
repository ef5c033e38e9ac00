# Camera-sized f_A (issue 17), stage 3 (Eq. 7-9): the demo's minimax stage, starting from
# this folder's stage 2 (f_A, f_T and f_B). Deploy its final.pth with
# tools/deployment/export_onnx.py and tools/anonymize_video.py --backend onnxruntime.
_base_ = [
    '../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py',
    '../_base_/models/unet_camera.py'
]
stage2_work_dir = 'work_dirs/spact-stage2_unet-camera-r3d18-r18_150iter_synthetic-a'
stage2_checkpoint = f'{stage2_work_dir}/final.pth'
model = dict(data_preprocessor=dict(anonymizer={{_base_.camera_anonymizer}}),
             init_cfg=dict(type='Pretrained', checkpoint=stage2_checkpoint))
