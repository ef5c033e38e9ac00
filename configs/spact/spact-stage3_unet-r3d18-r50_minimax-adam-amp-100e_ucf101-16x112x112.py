# SPAct stage 3 (Sec. 3.3, Eq. 7-9) at paper scale with mixed precision and
# channels-last convolutions (GPU only): every branch is an AmpOptimWrapper,
# the branches share one GradScaler (see MinimaxOptimWrapper).
_base_ = ['./spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py']
optim_wrapper = dict(
    channels_last=True,
    anonymizer=dict(type='AmpOptimWrapper', loss_scale='dynamic'),
    recognizer=dict(type='AmpOptimWrapper', loss_scale='dynamic'),
    privacy=dict(type='AmpOptimWrapper', loss_scale='dynamic'))
