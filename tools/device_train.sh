#!/usr/bin/env bash
# The GPU runs of configs/mixed_effnetlite0_RUN_gpu.toml (v6: RUN=176) side by side on one lent
# machine, then their chosen epochs as small checkpoints under $OUT (what comes back).
# Carried: runs/gpu (python -m unswap.train make-pack: pack_176.npz and init_lite0.pt) and .whl (the
# efficientnet-lite-pytorch wheel, pure Python; the machine has PyTorch, NumPy and OpenCV).
#   BUDGET=430 bash tools/device_train.sh          # seconds of training per run (v6: 430)
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-runs/gpu_out}
BUDGET=${BUDGET:-420}
RUNS=${RUNS:-176}   # configs/mixed_effnetlite0_RUN_gpu.toml
CONFIGS=${CONFIGS:-configs}
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/efficientnet_lite_pytorch-*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
nproc
for s in $RUNS; do
    timeout $((BUDGET + 60)) python3 -m unswap.train --config $CONFIGS/mixed_effnetlite0_${s}_gpu.toml \
        --pack ${PACK:-runs/gpu/pack_176.npz} --out /tmp/gpu_$s --time-budget-s "$BUDGET" > /tmp/gpu_$s.out 2>&1 &
done
wait
for s in $RUNS; do
    echo "== $s"; grep -E '"event": "(schedule|init)"' /tmp/gpu_$s.out; grep -E '"event": "epoch"' /tmp/gpu_$s.out | tail -2
    grep -vE '^\{' /tmp/gpu_$s.out | tail -5
done
python3 -m unswap.train half-checkpoints $(for s in $RUNS; do echo /tmp/gpu_$s; done) --out "$OUT" --keep 3
ls -la "$OUT"
