# VISPR with Wu et al.'s grouping of the 7 VISPR-1 attributes into PA-HMDB's five
# (= PA_HMDB_VISPR_GROUPS; a class is present if any of its ids is): f'_B trains here
# and is tested on PA-HMDB frames (HMDB51-VISPR -> PA-HMDB protocol, Table 1).
# Layout: tools/data/vispr/README.md
_base_ = ['./vispr_vispr1_112x112.py']

attributes = (('a17_color', ), ('a9_face_complete', 'a10_face_partial'), ('a4_gender', ),
              ('a12_semi_nudity', ), ('a64_rel_personal', 'a65_rel_social'))
class_names = ('skin_color', 'face', 'gender', 'nudity', 'relationship')  # PA_HMDB_ATTRIBUTES
train_dataloader = dict(dataset=dict(attributes=attributes, class_names=class_names))
val_dataloader = dict(dataset=dict(attributes=attributes, class_names=class_names))
test_dataloader = dict(dataset=dict(attributes=attributes, class_names=class_names))
