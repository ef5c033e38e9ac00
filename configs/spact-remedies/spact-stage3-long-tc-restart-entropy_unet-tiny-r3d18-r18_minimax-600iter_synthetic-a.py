# Remedy 6 (ours) in the long game of `long-tc-restart`: in step 1 f_A maximises the
# entropy of f_B's contrastive distribution over each anchor's candidates
# (SSLPrivacyHead(anonymizer_objective='entropy'), NTXentLoss.entropy) instead of L_B
# itself. -L_B (Eq. 9) keeps rewarding f_A past chance for making the two frames of a
# clip *less* alike than frames of other clips, which is the flicker shortcut's
# direction; the entropy is largest at chance (log(2N - 1)) and falls again beyond it,
# the SSL analogue of the negative-entropy budget loss of Wu et al. [41]. Step 2 still
# trains f_B on L_B. Everything else is `long-tc-restart` (see the base).
_base_ = ['./spact-stage3-long-tc-restart_unet-tiny-r3d18-r18_minimax-600iter_synthetic-a.py']
model = dict(privacy_head=dict(anonymizer_objective='entropy'))
