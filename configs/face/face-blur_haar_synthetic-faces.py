# Face blur baseline (Ren et al., ECCV 2018, hand-crafted comparison): FaceObfuscationAnonymizer
# with mode='blur' on the face boxes (ground truth on the synthetic faces, OpenCV's Haar
# cascade on real video: tools/anonymize_video.py --method face-blur). No training; the rest
# of the config (f_T, D, data) is the learned face anonymizer's, so that
# tools/train.py / test.py can train a recognizer behind this fixed f_A.
_base_ = ['./face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py']
model = dict(
    data_preprocessor=dict(
        anonymizer=dict(
            _delete_=True, type='FaceObfuscationAnonymizer', mode='blur',
            detector=dict(type='HaarFaceDetector'), expand=1.2, max_gap=2)))
