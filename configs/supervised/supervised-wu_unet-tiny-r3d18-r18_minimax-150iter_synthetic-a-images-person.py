# Supervised adversarial baseline of Wu et al. [41], CROSS-dataset training
# (Sec. 4.2), demo scale: the same minimax loop and SupervisedPrivacyHead as the
# same-dataset config this inherits, but f_A and f_T learn from the action
# videos of set A (no privacy label) and f_A and f_B from the separate privacy
# IMAGE set with its person attributes (as UCF101 and VISPR in the paper).
# ActionPrivacyPairDataset gives every clip one privacy image (aux_inputs +
# data_sample.aux_privacy_label); AnonymizerDataPreprocessor anonymizes it with
# the same f_A; step 2 trains f_B with BCE on f_A(images), step 1 trains f_A to
# maximise f_B's entropy on f_A(images) while keeping L_T on the clips.
# Evaluate with configs/protocols/protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py.
_base_ = ['./supervised-wu_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a-person.py']


def _value(path, key):
    """``key`` (dotted) of the config at ``path`` (relative to this file): reuse it
    without inheriting all its keys (two bases that both define train_dataloader
    cannot both be ``_base_``)."""
    from mmengine import Config
    value = Config.fromfile('{{ fileDirname }}/' + path)
    for k in key.split('.'):
        value = value[k]
    return value


# The action set (videos, action labels only) and the privacy image set of the
# evaluation protocol (person attributes), as their own base configs define them.
_actions = '../_base_/datasets/synthetic_actions_a_8x32x32.py'
_images = _value('../_base_/protocols/synthetic_r3d18-tiny_r18-tiny_200iter.py',
                 'privacy.train_dataloader.dataset')
# f_A sees RGB clips (decord): load the images as RGB too (the protocol's
# attacker loads BGR and converts in its data preprocessor).
_images.pipeline[0] = dict(type='LoadPrivacyImage', channel_order='rgb')

train_dataloader = dict(
    # tells the dataset the epoch: a new clip-image pairing every epoch
    sampler=dict(type='EpochPairingSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ActionPrivacyPairDataset',
        action=_value(_actions, 'train_dataloader.dataset'),
        privacy=_images,
        views=1,  # one image per clip for the supervised budget model
        seed=0))
val_dataloader = dict(
    dataset=dict(_delete_=True, **_value(_actions, 'val_dataloader.dataset')))
test_dataloader = val_dataloader
