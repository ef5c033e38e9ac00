# Item 1 of issue 12: the SSL views of f_B are made before f_A, as in the released
# code: S_F draws two RAW frames per clip, SSLViewAugmentation augments each (shared
# crop corner, per-view crop factor U(0.6, 1), colour jitter, grayscale p = 0.1,
# flip, erasing), f_A anonymizes them and the privacy head takes them as its two
# views (aux_inputs). f_B must then match two frames through augmentations, which
# a frame-to-frame flicker added by f_A no longer defeats as cheaply.
_base_ = ['./spact-stage3-nostop_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(data_preprocessor=dict(
    type='MinimaxAnonymizerDataPreprocessor',
    ssl_views=dict(frame_sampler=dict(mode='random'), augment=dict(type='SSLViewAugmentation'))))
