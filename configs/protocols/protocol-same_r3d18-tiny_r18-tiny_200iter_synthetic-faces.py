# Same-dataset protocol on the face-centric synthetic benchmark (learned face
# anonymization, docs/face_anonymizer.md): f'_T on the 4 face actions (wave,
# walk_left, walk_right, nod) of 8x64x64 clips, the privacy attackers on the SAME
# videos with the face attributes (skin_dark, glasses, beard, long_hair) as the
# person group, re-identification on `identity` (24 people), face crops of the
# annotated face boxes. Generate the data with
#   python tools/data/synthetic/generate_faces.py --root data/synthetic-faces
# (96x96 clips, decoded here at 64x64 as the face f_A was trained).
# Meant for tools/privacy_audit.py, which hands a face f_A (FaceAnonymizer, the face-*
# baselines) the ground-truth face boxes of every decoded frame (--face-boxes gt, the
# default); tools/eval_protocol.py would run a face f_A on its Haar detector, which finds
# ~16% of these drawn faces. Attackers: `--mode quick` (demo scale, minutes per method
# on 2 CPU cores) or `--mode full`, as for the other synthetic protocols.
_base_ = [
    '../_base_/protocols/synthetic_r3d18-tiny_r18-tiny_200iter.py',
    '../_base_/protocols/synthetic_pipelines_64x64.py'
]
faces_root = 'data/synthetic-faces'
data_root = faces_root  # the prefix --data-root replaces
face_attributes = ['skin_dark', 'glasses', 'beard', 'long_hair']
protocol = dict(name='same-dataset', dataset='synthetic-faces')  # Sec. 4.1's protocol, other data
# f_A checkpoints: the learned face anonymizer's architecture
# (configs/_base_/models/face_anonymizer_tiny.py, trained by
# configs/face/face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py).
anonymizer = dict(
    _delete_=True,
    type='FaceAnonymizer',
    modifier=dict(type='FaceModifier', channels=16, num_blocks=3),
    crop_size=32,
    feather=0.15,
    blend='residual',
    l1_weight=1.0,
    detector=dict(type='HaarFaceDetector'),
    expand=1.2,
    max_gap=2)
action = dict(
    train_dataloader=dict(
        dataset=dict(ann_file=f'{faces_root}/annotations/face_videos_train.json',
                     data_prefix=dict(video=faces_root),
                     pipeline={{_base_.clip_pipeline_train_64x64}})),
    val_dataloader=dict(
        dataset=dict(ann_file=f'{faces_root}/annotations/face_videos_val.json',
                     data_prefix=dict(video=faces_root),
                     pipeline={{_base_.clip_pipeline_test_64x64}})))
privacy = dict(
    model=dict(data_preprocessor=dict(to_rgb=False)),  # decord frames are RGB already
    train_dataloader=dict(
        batch_size=16,
        dataset=dict(type='PrivacyVideoDataset', _delete_=True,
                     ann_file=f'{faces_root}/annotations/face_videos_train.json',
                     data_prefix=dict(video=faces_root), attributes=face_attributes,
                     metainfo=dict(person_attributes=face_attributes),  # the audit's group
                     pipeline={{_base_.frame_pipeline_train_64x64}})),
    val_dataloader=dict(
        batch_size=16,
        dataset=dict(type='PrivacyVideoDataset', _delete_=True,
                     ann_file=f'{faces_root}/annotations/face_videos_val.json',
                     data_prefix=dict(video=faces_root), attributes=face_attributes,
                     metainfo=dict(person_attributes=face_attributes),
                     pipeline={{_base_.frame_pipeline_test_64x64}}, test_mode=True)))
