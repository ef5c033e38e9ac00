# Item 4 of issue 12: checkpoint selection and stopping by a fresh privacy probe, not
# by the co-trained f_B's L_B. At every validation (every 50 iterations)
# PrivacyProbeHook trains fresh logistic probes on f_A's output of held-out
# privacy-labelled clips and logs privacy/probe_cmap (worst case over the probes,
# lower is more private); CheckpointHook keeps best_privacy_probe_cmap_iter_*.pth
# and mmengine's EarlyStoppingHook stops after 2 validations without a 0.5-point
# improvement. The probe clips are the TRAIN split's privacy annotations (the
# audit's val split stays unseen). th_Bmax (SSLLossThresholdHook) remains available
# (the demo config) but is unreliable: the demo's L_B ended near chance (2.5 against
# log(31) = 3.43) while fresh attackers recovered every attribute (issue 11).
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
train_cfg = dict(max_iters=300, val_interval=50)
_probe_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len={{_base_.clip_len}}, frame_interval={{_base_.frame_interval}},
         num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=({{_base_.img_size}}, {{_base_.img_size}}), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
_probe_data = dict(
    type='PrivacyVideoDataset',
    ann_file='data/synthetic/annotations/privacy_videos_a_train.json',
    data_prefix=dict(video={{_base_.data_root}}), pipeline=_probe_pipeline, test_mode=True)
default_hooks = dict(
    checkpoint=dict(save_best='privacy/probe_cmap', rule='less'),
    privacy_probe=dict(type='PrivacyProbeHook', train_dataset=_probe_data, max_clips=256),
    stop_rule=dict(_delete_=True, type='EarlyStoppingHook', monitor='privacy/probe_cmap',
                   rule='less', min_delta=0.5, patience=2))
