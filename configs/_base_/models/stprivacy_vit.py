# STPrivacy f_A (STPrivacyAnonymizer, spact_mm/models/anonymizers/stprivacy.py) at the two
# scales of configs/stprivacy. Only variables: a stage config lists this file next to the
# SPAct stage it follows and puts one of them in place of SPAct's UNet
# (`_delete_`: none of the UNet's arguments survive).
#
# Paper scale (Li et al., ICCV 2023, released code): ViT-B widths (768, 12 layers, 12
# heads), 16x112x112 clips, tubelets 2x16x16 -> 8 x 7 x 7 = 392 tokens, no class token.
# One sparsification stage before block 3 (the release lists several `pruning_loc`; we
# drop once, see docs/stprivacy.md). 768 < 2*16*16*3 = 1536 pixels per tubelet: the
# identity initialisation is the least-squares projection, stage 1 trains the rest.
stprivacy_vit_b = dict(
    _delete_=True, type='STPrivacyAnonymizer', num_frames=16, img_size=112,
    tubelet_size=(2, 16, 16), embed_dims=768, num_layers=12, num_heads=12, mlp_ratio=4.,
    keep_ratio=0.7, sparsify_at=3, keep_loss_weight=2.0, fill='zeros', identity_init=True)
# Demo scale (CPU, synthetic data): 8x32x32 clips, tubelets 2x8x8 -> 4 x 4 x 4 = 64
# tokens; width 384 = 2*8*8*3 pixels per tubelet, so f_A starts as the exact identity;
# 4 layers, sparsification before block 1, half the tubelets of every frame kept.
stprivacy_tiny = dict(
    _delete_=True, type='STPrivacyAnonymizer', num_frames=8, img_size=32,
    tubelet_size=(2, 8, 8), embed_dims=384, num_layers=4, num_heads=6, mlp_ratio=2.,
    keep_ratio=0.5, sparsify_at=1, keep_loss_weight=2.0, fill='zeros', identity_init=True)
# Stage 1 (identity, Eq. 4 of SPAct) keeps every tubelet: it trains reconstruction only.
stprivacy_vit_b_identity = dict(stprivacy_vit_b, keep_ratio=1.0)
stprivacy_tiny_identity = dict(stprivacy_tiny, keep_ratio=1.0)
