# STPrivacy, stage 1 (our design, after SPAct's Eq. 4 and 6), demo scale: train the
# tubelet f_A to the identity with the L1 loss, every tubelet kept, stop once
# validation L1 <= th_A0. The demo f_A starts as the exact identity (embed width =
# pixels per tubelet, head = pseudo-inverse of the embedding), so this stage mostly
# checks that; at paper scale it trains the reconstruction.
_base_ = ['../spact/spact-stage1_unet-tiny_200iter_synthetic-a.py',
          '../_base_/models/stprivacy_vit.py']
model = dict(data_preprocessor=dict(anonymizer={{_base_.stprivacy_tiny_identity}}))
optim_wrapper = dict(optimizer=dict(lr=1e-4))  # Adam; a transformer f_A wants less than 1e-3
