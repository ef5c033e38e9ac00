# SPAct stage 3 at paper scale for N GPUs (tools/dist_train.sh CONFIG N):
# NT-Xent negatives gathered from every rank with gradients (the negatives of
# Eq. 5 grow with N), SyncBN (mmengine converts every BN layer), and gradient
# accumulation (each minimax step sees 2 batches per GPU).
_base_ = ['./spact-stage3_unet-r3d18-r50_minimax-adam-100e_ucf101-16x112x112.py']
model = dict(privacy_head=dict(loss=dict(gather_distributed=True)))
sync_bn = 'torch'
model_wrapper_cfg = dict(type='SPActDistributedDataParallel')
optim_wrapper = dict(
    anonymizer=dict(accumulative_counts=2),
    recognizer=dict(accumulative_counts=2),
    privacy=dict(accumulative_counts=2))
