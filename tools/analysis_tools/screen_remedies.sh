#!/usr/bin/env bash
# Screening of the SPAct remedies of issue 12 (configs/spact-remedies/): train each
# variant's stage 3 from the demo's stage 2 and screen it with the privacy audit's
# quick mode under the same-dataset protocol on the DEFAULT split (data/synthetic),
# whose val split is not the reported one (data/synthetic-val32). Finished runs are kept.
#
#   bash tools/analysis_tools/screen_remedies.sh NAME[=CONFIG] ...
#
# Training seed: SEED (default 0). NAME alone means configs/spact-remedies/spact-stage3-NAME_*.py; `default` audits
# the demo's own stage 3 (work_dirs/demo/stage3/final.pth). NAME motion* (the motion-aware
# f_A) first trains its own stages 1 and 2 (configs/spact-remedies/spact-stage{1,2}-motion_*);
# NAME anchored* (the same f_A started at the motion-only anchor) its spact-stage{1,2}-anchored_*.
set -euo pipefail
WORK=${WORK:-work_dirs/screen}
DATA=${DATA:-data/synthetic}
STAGE2=${STAGE2:-work_dirs/demo/stage2/final.pth}
PY=${PYTHON:-.venv/bin/python}
PROTOCOL=configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py
# f_A architecture of the motion-aware remedy (the protocol config's f_A is the UNet)
MOTION=(--cfg-options anonymizer._delete_=True anonymizer.type=MotionUNetAnonymizer
        anonymizer.base_channels=16 anonymizer.num_stages=3)
audit() {  # audit NAME ANONYMIZER [EXTRA ARGS]
  [ -f "$WORK/same/$1/audit.json" ] || $PY tools/privacy_audit.py $PROTOCOL --anonymizer "$2" \
      --method "$1" --mode quick --work-dir "$WORK/same/$1" --data-root "$DATA" \
      --raw-audit "$WORK/same/raw/audit.json" --no-progress "${@:3}"
}
train() {  # train NAME CONFIG [CFG OPTIONS]
  [ -f "$WORK/train/$1/final.pth" ] || $PY tools/train.py "$2" --work-dir "$WORK/train/$1" \
      --seed "${SEED:-0}" --cfg-options "${@:3}" train_dataloader.num_workers=1 val_dataloader.num_workers=1
}
[ -f "$WORK/same/raw/audit.json" ] || $PY tools/privacy_audit.py $PROTOCOL --anonymizer raw \
    --mode quick --work-dir "$WORK/same/raw" --data-root "$DATA" --no-progress
for arg in "$@"; do
  name=${arg%%=*}
  if [ "$name" = default ]; then audit default work_dirs/demo/stage3/final.pth; continue; fi
  cfg=${arg#*=}
  [ "$cfg" = "$arg" ] && cfg=$(ls configs/spact-remedies/spact-stage3-"$name"_*.py)
  EXTRA=(); S2=$STAGE2
  if [[ $name == motion* || $name == anchored* ]]; then  # the motion-aware f_A has its own
    base=${name%%-*}  # stages 1 and 2 (motion: identity start; anchored: motion-only start)
    train $base-stage1 "$(ls configs/spact-remedies/spact-stage1-${base}_*.py)"
    train $base-stage2 "$(ls configs/spact-remedies/spact-stage2-${base}_*.py)" \
        model.data_preprocessor.checkpoint="$WORK/train/$base-stage1/final.pth"
    S2=$WORK/train/$base-stage2/final.pth; EXTRA=("${MOTION[@]}")
  fi
  train "$name" "$cfg" model.init_cfg.checkpoint="$S2"
  audit "$name" "$WORK/train/$name/final.pth" "${EXTRA[@]}"
done
