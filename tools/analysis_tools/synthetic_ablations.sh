#!/usr/bin/env bash
# The ablations of Tables 3-6 on the synthetic dataset: each config in
# configs/ablations/ trains its stage 3 from the demo's stage-2 checkpoint (made
# by synthetic_comparison.sh), then is judged like the paper's ablations, by the
# cross-dataset protocol (f'_T on action set A videos, f'_B on the privacy image
# set, person attributes); then one table. About 6 minutes per ablation on 2 CPU
# cores; restartable (finished runs are kept).
#
#   bash tools/analysis_tools/synthetic_ablations.sh [WORK=work_dirs/comparison] [DATA=data/synthetic]
#   ABLATIONS="moco rotnet" bash tools/analysis_tools/synthetic_ablations.sh   # a subset
set -euo pipefail
WORK=${1:-work_dirs/comparison}
DATA=${2:-data/synthetic}
PY=${PYTHON:-python}
P=configs/protocols
SAME=$P/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py
CROSS=$P/protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py
STAGE2="$WORK/spact/stage2/final.pth"
[ -f "$STAGE2" ] || { echo "no $STAGE2: run tools/analysis_tools/synthetic_comparison.sh first" >&2; exit 1; }
[ -f "$WORK/same/raw/results.json" ] || { echo "no raw results in $WORK: run synthetic_comparison.sh first" >&2; exit 1; }

ABLATIONS=${ABLATIONS:-"no-fb frozen-fb fb-3d-r3d18 sampler-far4 sampler-near4 moco rotnet \
fb-mobilenetv2 fb-r50 fb-r50-mobilenetv2-ensemble"}
# Ablations whose privacy branch differs from the demo's stage-2 f_B (another loss,
# another architecture) get their own stage 2 first, as in the paper, where f_B is
# trained before the minimax: the ablation's config with f_A never updated
# (anonymizer_steps=0: every iteration is step 2, Eq. 7 and 8) and the th_Bmax stop
# off (an untrained f_B starts above th_Bmax and would end the run at once).
PRETRAIN_FB=" moco rotnet fb-mobilenetv2 fb-r50 fb-r50-mobilenetv2-ensemble fb-3d-r3d18 "
for a in $ABLATIONS; do
  CFG=$(ls configs/ablations/spact-stage3-${a}_*.py)
  RUN="$WORK/ablations/$a"
  START="$STAGE2"
  if [[ "$PRETRAIN_FB" == *" $a "* ]]; then
    [ -f "$RUN/stage2/final.pth" ] || $PY tools/train.py "$CFG" --work-dir "$RUN/stage2" \
        --cfg-options model.init_cfg.checkpoint="$STAGE2" train_dataloader.dataset.data_prefix.video="$DATA" \
        optim_wrapper.anonymizer_steps=0 default_hooks.stop_rule.threshold=None
    START="$RUN/stage2/final.pth"
  fi
  [ -f "$RUN/final.pth" ] || $PY tools/train.py "$CFG" --work-dir "$RUN" \
      --cfg-options model.init_cfg.checkpoint="$START" train_dataloader.dataset.data_prefix.video="$DATA"
  NAME="SPAct ablation: $a"
  [ -f "$RUN/same/results.json" ] || $PY tools/eval_protocol.py "$SAME" --anonymizer "$RUN/final.pth" \
      --method "$NAME" --work-dir "$RUN/same" --data-root "$DATA" --no-progress \
      --tasks action --raw-results "$WORK/same/raw/results.json"
  [ -f "$RUN/cross/results.json" ] || $PY tools/eval_protocol.py "$CROSS" --anonymizer "$RUN/final.pth" \
      --method "$NAME" --work-dir "$RUN/cross" --data-root "$DATA" --no-progress \
      --tasks privacy --reuse "$RUN/same/results.json" --raw-results "$WORK/cross/raw/results.json"
done
$PY tools/analysis_tools/results_table.py "$WORK"/cross/raw/results.json "$WORK"/cross/spact/results.json \
    "$WORK"/ablations/*/cross/results.json --out "$WORK/ablations/table.md"
