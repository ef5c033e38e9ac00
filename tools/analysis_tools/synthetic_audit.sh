#!/usr/bin/env bash
# The privacy audit of docs/results.md on the synthetic dataset: every method under
# the chosen protocols and seeds, judged by fresh worst-case attackers
# (tools/privacy_audit.py), then the tables and trade-off plots.
# Restartable: finished audits (audit.json) are kept.
#
#   bash tools/analysis_tools/synthetic_audit.sh [WORK=work_dirs/audit] [DATA=data/synthetic-val32] \
#       [TRAINED=work_dirs/comparison]
#
# Environment: METHODS (default below; raw is always audited first), PROTOCOLS
# ("same cross novel"), SEEDS (attacker seeds, "0"), MODE (full|quick).
# Learned anonymizers are read from TRAINED (made by synthetic_comparison.sh with
# TRAIN_ONLY=1): spact = TRAINED/spact/stage3/final.pth, spact-600, supervised,
# supervised-600, bdq-entropy, bdq-ssl = TRAINED/<name>/final.pth; NAME=path/to/final.pth also works.
set -euo pipefail
WORK=${1:-work_dirs/audit}
DATA=${2:-data/synthetic-val32}
TRAINED=${3:-work_dirs/comparison}
PY=${PYTHON:-python}
MODE=${MODE:-full}
P=configs/protocols
METHODS=${METHODS:-"downsample-2x downsample-4x obf-blackening obf-blackening-oracle \
obf-strongblur-oracle motion-only bdq-fixed bdq-entropy bdq-ssl supervised-600 spact spact-600"}
for seed in ${SEEDS:-0}; do
  for proto in ${PROTOCOLS:-same cross novel}; do
    case $proto in
      same) CFG=$P/protocol-same_r3d18-tiny_r18-tiny_200iter_synthetic-a-person.py ;;
      cross) CFG=$P/protocol-cross_r3d18-tiny_r18-tiny_200iter_synthetic-a-images-person.py ;;
      novel) CFG=$P/protocol-novel_r3d18-tiny_r18-tiny_200iter_synthetic-b-images-scene.py ;;
      *) echo "unknown protocol $proto" >&2; exit 2 ;;
    esac
    OUT=$WORK/$proto/seed$seed
    for m in raw $METHODS; do
      case $m in
        spact) A=$TRAINED/spact/stage3/final.pth ;;
        spact-600|supervised|supervised-600|bdq-entropy|bdq-ssl) A=$TRAINED/$m/final.pth ;;
        *=*) A=${m#*=}; m=${m%%=*} ;;
        *) A=$m ;;
      esac
      [ -f "$OUT/$m/audit.json" ] && continue
      if [ ! -e "$A" ] && [[ $A == */* ]]; then echo "skip $m: no $A" >&2; continue; fi
      EXTRA=(); [ "$m" = raw ] || EXTRA=(--raw-audit "$OUT/raw/audit.json")
      # a trained BDQ checkpoint holds a BDQEncoder, not the protocol's UNet f_A
      case $m in bdq-*) [ "$m" = bdq-fixed ] || EXTRA+=(--cfg-options anonymizer._delete_=True \
          anonymizer.type=BDQEncoder) ;; esac
      # the motion-aware f_A (remedies 5 and 7: motion*, anchored*) is a MotionUNetAnonymizer
      case $m in motion-only) ;; motion*|anchored*) EXTRA+=(--cfg-options anonymizer._delete_=True \
          anonymizer.type=MotionUNetAnonymizer anonymizer.base_channels=16 anonymizer.num_stages=3) ;; esac
      $PY tools/privacy_audit.py "$CFG" --anonymizer "$A" --method "$m" --mode "$MODE" \
          --seed "$seed" --work-dir "$OUT/$m" --data-root "$DATA" --no-progress "${EXTRA[@]}"
    done
  done
done
$PY tools/analysis_tools/audit_table.py "$WORK"/*/seed*/*/audit.json --out "$WORK/audit_tables.md" \
    --plot-dir "$WORK"
