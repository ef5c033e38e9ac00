# Demo stage 3 for several processes, CPU (gloo) or GPU:
#   bash tools/dist_train.sh configs/spact/<this file> 2
# NT-Xent negatives are gathered from every rank with gradients; per-rank
# batch 8, so 2 processes see the demo's 16 clips per step.
_base_ = ['./spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
model = dict(privacy_head=dict(loss=dict(gather_distributed=True)))
train_dataloader = dict(batch_size=8)
