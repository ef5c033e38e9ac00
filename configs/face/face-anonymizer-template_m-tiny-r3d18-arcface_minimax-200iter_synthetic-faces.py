# The learned face anonymizer with M reading a learned template instead of the face
# (FaceAnonymizer(modifier_input='template'), ours; docs/face_anonymizer.md, "A face
# replacement that the adaptive attacker cannot read"). Ren et al.'s M (the base) reads
# each face and re-maps it; the audit's attackers, trained on its output, still identified
# 97-100 % of the faces: a deterministic re-mapping keeps what tells people apart. Here
# every face box is replaced, with hard edges, by the same learned face M(T) resized to the
# box, so the output depends on the input only through the box geometry, as face masking's
# does. Same game as the base (step 1: L_T - omega * L_D + l1_weight * |M(T) - c|_1; step
# 2: D and f_T); L_D can no longer pull identity out, and the L1 term pulls M(T) towards
# the faces it replaces.
_base_ = ['./face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py']
model = dict(
    data_preprocessor=dict(
        anonymizer=dict(blend='replace', feather=0., modifier_input='template')))
