# Table 2, columns "Transfer Evaluation P-HVU": Action and "Scenes -> Obj" (Sec. 4.3, 5.4).
# f_A* was learned on P-HVU train clips; the supervised method [41] learns it with the
# SCENE tags, and the fresh attacker is tested on the novel OBJECT tags. (The set notation
# of Sec. 5.4 names the groups the other way round, X_privacy^t = objects and
# X_privacy^nt/ne = scenes; the column title "Scenes -> Obj", its numbers (raw 11.9 =
# Table 1's objects cMAP) and the text ("removes ~88% object privacy", TennisCourt (Scene)
# -> TennisRacket (Obj)) all say objects, which is what we follow.)
# f'_T: P-HVU train -> test, 739 multi-label actions, classwise mAP (as Table 1).
# f'_B: trained on f_A*(frames of P-HVU train clips), tested on f_A*(frames of P-HVU test
#   clips), 1678 multi-label objects, cMAP.
# The fresh models and data are those of protocol-same_r3d18_r50_adam-3e_p-hvu-objects.py;
# only f_A* differs (the checkpoint given to --anonymizer). Baselines without learned
# weights give the same figures in both tables.
# Data: data/hvu (tools/data/p_hvu/README.md).
_base_ = ['./protocol-same_r3d18_r50_adam-3e_p-hvu-objects.py']

protocol = dict(name='novel', dataset='P-HVU/scenes->objects',
                paper='Table 2: P-HVU action cMAP, Scenes -> Obj cMAP')
