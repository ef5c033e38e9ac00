#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]
# As mmaction2's tools/dist_train.sh, with torch.distributed.run (torchrun).
# Without CUDA the processes use the gloo backend on CPU (see spact_mm.apis.train).

set -x

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

# Any arguments from the third one are passed to train.py.
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
python -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
