# The learned face anonymizer with D restarted every 50 iterations (10 step-2-only warm-up
# iterations after each; MinimaxOptimWrapper's privacy_restart_interval, SPAct's remedy 3b
# of issue 12). The plain run (the base) ended with the co-trained D at 6 % identity
# accuracy while a fresh classifier trained on M's output identified 97 % of the faces
# (docs/face_anonymizer.md): M kept re-mapping identities faster than the one D could
# follow, and every mapping still told people apart. After a restart M must beat a D that
# learns its current mapping from scratch, which is what the fresh attacker does.
_base_ = ['./face-anonymizer_m-tiny-r3d18-arcface_minimax-200iter_synthetic-faces.py']
optim_wrapper = dict(privacy_restart_interval=50, privacy_restart_warmup=10)
