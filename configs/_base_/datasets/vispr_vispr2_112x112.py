# VISPR-2: the novel privacy attributes of Sec. 4.3 / Table 2 (VISPR1 -> VISPR2).
# SPAct's Supp. Table 1 defines the split; the list below (= VISPR2_ATTRIBUTES) is
# our recollection of it and NOT verified (the main text confirms only Tattoo):
# check it before reporting numbers. Layout: tools/data/vispr/README.md
_base_ = ['./vispr_vispr1_112x112.py']

attributes = ('a6_hair_color', 'a16_race', 'a59_sports', 'a1_age_approx', 'a2_weight_approx',
              'a73_landmark', 'a11_tattoo')
train_dataloader = dict(dataset=dict(attributes=attributes))
val_dataloader = dict(dataset=dict(attributes=attributes))
test_dataloader = dict(dataset=dict(attributes=attributes))
