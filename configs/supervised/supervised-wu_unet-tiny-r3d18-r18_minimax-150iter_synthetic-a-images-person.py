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


# The action set A (videos, action labels only) as configs/_base_/datasets/
# synthetic_actions_a_8x32x32.py defines it (its keys reach here through the stage-3
# base), and the privacy image set of the evaluation protocol with its person attributes
# (configs/_base_/protocols/synthetic_r3d18-tiny_r18-tiny_200iter.py, restated: two bases
# that both define train_dataloader cannot both be `_base_`; tests/test_configs checks
# that they agree). f_A sees RGB clips (decord): the images are loaded as RGB too (the
# protocol's attacker loads BGR and converts in its data preprocessor).
person_images_train = dict(
    type='MultiLabelSubsetDataset', data_root='data/synthetic',
    ann_file='annotations/privacy_images_train.json',
    attributes={{_base_.person_attributes}},
    pipeline=[
        dict(type='LoadPrivacyImage', channel_order='rgb'),
        dict(type='mmpretrain.Resize', scale=(32, 32)),
        dict(type='mmpretrain.PackInputs'),
    ])
train_dataloader = dict(
    # tells the dataset the epoch: a new clip-image pairing every epoch
    sampler=dict(type='EpochPairingSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='ActionPrivacyPairDataset',
        action=dict(type={{_base_.dataset_type}}, ann_file={{_base_.ann_file_train}},
                    data_prefix=dict(video={{_base_.data_root}}),
                    pipeline={{_base_.train_pipeline}},
                    num_classes={{_base_.action_num_classes}}),
        privacy=person_images_train,
        views=1,  # one image per clip for the supervised budget model
        seed=0))
val_dataloader = dict(
    dataset=dict(_delete_=True, type={{_base_.dataset_type}}, ann_file={{_base_.ann_file_val}},
                 data_prefix=dict(video={{_base_.data_root}}), pipeline={{_base_.val_pipeline}},
                 test_mode=True, num_classes={{_base_.action_num_classes}}))
test_dataloader = val_dataloader
