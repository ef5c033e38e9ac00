# Supervised adversarial baseline of Wu et al. [41] at paper scale, CROSS-dataset
# training (Sec. 4.2, the UCF101-VISPR protocol of Table 1): f_A and f_T learn
# from UCF101 clips (action labels), f_A and the budget model f_B from VISPR-1
# images (7 privacy attributes), in SPAct's stage-3 minimax loop. f_B is a
# supervised ResNet-50 multi-label classifier (SupervisedPrivacyHead): step 2
# trains it with BCE on f_A(VISPR images), step 1 trains f_A to maximise its
# entropy on f_A(VISPR images) (negative-entropy budget loss) while L_T keeps
# the action on the clips. Each clip is paired with one VISPR image
# (ActionPrivacyPairDataset; a new pairing each epoch).
# Start from SPAct's stage-2 f_A and f_T (the SSL f_B's weights do not fit the
# budget model, which starts fresh): pass the checkpoint on the command line,
#   python tools/train.py CONFIG --cfg-options model.init_cfg.checkpoint=<stage-2 final.pth>
# (default: the stage-3 base config's stage-2 work dir).
_base_ = ['../spact/spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py']


def _value(path, key):
    """``key`` (dotted) of the config at ``path`` (relative to this file): reuse it
    without inheriting all its keys (two bases that both define train_dataloader
    cannot both be ``_base_``)."""
    from mmengine import Config
    value = Config.fromfile('{{ fileDirname }}/' + path)
    for k in key.split('.'):
        value = value[k]
    return value


# VISPR-1 as the protocols' dataset catalogue has it: f_A sees RGB clips (decord),
# and the catalogue loads the images as RGB too (VISPR's own base config loads BGR
# for mmpretrain attackers, which convert in their data preprocessor). Its
# RandomResizedCrop to 112 gives the fixed image size the batch needs.
_vispr = _value('../_base_/protocols/paper_datasets.py', 'paper_datasets.vispr1')
_vispr_attributes = _vispr['attributes']  # VISPR1_ATTRIBUTES of [41]
_vispr_train = _vispr['train_dataloader']['dataset']
del _vispr  # keep only what is used in the dumped config

model = dict(
    privacy_head=dict(
        _delete_=True,
        type='SupervisedPrivacyHead',
        num_attributes=len(_vispr_attributes),
        backbone=dict(type='mmpretrain.ResNet', depth=50),
        in_channels=2048,
        num_models=1,  # >1: ensemble of budget models ([41])
        restart_interval=None))  # e.g. 1000: "model restarting" of [41]
train_dataloader = dict(
    # tells the dataset the epoch: a new clip-image pairing every epoch
    sampler=dict(type='EpochPairingSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ActionPrivacyPairDataset',
        action={{_base_.train_dataloader.dataset}},
        privacy=_vispr_train,
        views=1,  # one VISPR image per clip for the supervised budget model
        seed=0))
# th_Bmax watches the SSL loss, which this model has not.
custom_hooks = [
    dict(type='FinalCheckpointHook'),
    dict(type='ResumeStateHook'),
    dict(type='AnonymizationVisualizationHook'),
]
