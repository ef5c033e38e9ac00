#!/usr/bin/env bash
# Screening of the SPAct remedies of issue 12 (configs/spact-remedies/): train each
# variant's stage 3 from the demo's stage 2 and screen it with the privacy audit's
# quick mode under the same-dataset protocol on the DEFAULT split (data/synthetic),
# whose val split is not the reported one (data/synthetic-val32). Finished runs are kept.
#
#   bash tools/analysis_tools/screen_remedies.sh NAME[=CONFIG] ...
#
# NAME alone means configs/spact-remedies/spact-stage3-NAME_*.py; `default` audits
# the demo's own stage 3 (work_dirs/demo/stage3/final.pth).
set -euo pipefail
WORK=${WORK:-work_dirs/screen}
DATA=${DATA:-data/synthetic}
STAGE2=${STAGE2:-work_dirs/demo/stage2/final.pth}
PY=${PYTHON:-.venv/bin/python}
PROTOCOL=configs/protocols/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py
audit() {  # audit NAME ANONYMIZER
  [ -f "$WORK/same/$1/audit.json" ] || $PY tools/privacy_audit.py $PROTOCOL --anonymizer "$2" \
      --method "$1" --mode quick --work-dir "$WORK/same/$1" --data-root "$DATA" \
      --raw-audit "$WORK/same/raw/audit.json" --no-progress
}
[ -f "$WORK/same/raw/audit.json" ] || $PY tools/privacy_audit.py $PROTOCOL --anonymizer raw \
    --mode quick --work-dir "$WORK/same/raw" --data-root "$DATA" --no-progress
for arg in "$@"; do
  name=${arg%%=*}
  if [ "$name" = default ]; then audit default work_dirs/demo/stage3/final.pth; continue; fi
  cfg=${arg#*=}
  [ "$cfg" = "$arg" ] && cfg=$(ls configs/spact-remedies/spact-stage3-"$name"_*.py)
  [ -f "$WORK/train/$name/final.pth" ] || $PY tools/train.py "$cfg" --work-dir "$WORK/train/$name" \
      --cfg-options model.init_cfg.checkpoint="$STAGE2" train_dataloader.num_workers=1 val_dataloader.num_workers=1
  audit "$name" "$WORK/train/$name/final.pth"
done
