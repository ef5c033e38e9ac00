# Reference of the remedies (issue 12): the demo's stage 3 without the th_Bmax stop
# rule. th_Bmax (SSLLossThresholdHook) reads the co-trained f_B's L_B, which f_A
# learns to fool: the demo's L_B ended near chance (2.5 against log(31) = 3.43) while
# fresh attackers recovered every attribute (issue 11), so the rule stops on the
# wrong evidence and would cut the longer games below short. Every config of this
# folder inherits this one; with 150 iterations the rule never fired in the demo,
# so this run is the demo's stage 3.
_base_ = ['../spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py']
stage2_checkpoint = 'work_dirs/demo/stage2/final.pth'  # model.init_cfg (see base)
model = dict(init_cfg=dict(checkpoint=stage2_checkpoint))
default_hooks = dict(stop_rule=dict(threshold=None))  # no th_Bmax stop rule
