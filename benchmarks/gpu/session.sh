#!/bin/bash
# One GPU session in one command: the cross-device decoding check (cpu<->cuda) and a
# gvc1d-small continuation run sized to the time left (a probe of 40 steps measures the
# throughput, then a full cosine schedule is fitted to DEADLINE_S). Run 2026-11-28 on an
# H200 (docs/results/gvc1d.md, "GPU run"; docs/results/cross_device*.md).
#
# usage (in the repo root of the GPU machine): bash benchmarks/gpu/session.sh DEADLINE_S
#   DEADLINE_S: seconds from the start by which training must end (export follows)
#   env: DEVS (cpu,cuda)  SIZES (sample,480p)  BIG (720p, 4 frames; empty: skip)
#        CROSS (1; 0 skips the cross-device check)  BATCH (32)  WORKERS (12)  MODEL (gvc1d)
#        INIT (weights to start from: .gpu/init.json, made by prepare.sh RUN, or a bundled id)
#        TRAIN_ARGS (the model's overrides; default: the gvc1d continuation below, on
#        5-frame clips since 2026-11-28: the 2-frame clips of every earlier run taught the
#        context one step only; docs/results/gvc1d.md, "Does the temporal context pay?").
#        A One-DVA stage-1 continuation of the bundled model, for example:
#        MODEL=onedva INIT=onedva-small TRAIN_ARGS="data.synthetic_fraction=0.3 train.optim.lr=0.0003
#        train.optim.min_lr=0.00003 train.optim.warmup_steps=50"
#        PRECS (int,float64): the coding precisions of the cross-device check, each written
#        to cross_device[_big]_PREC; float32 repeats the 2026-11-28 measurement.
#
# The machine has its own torch but neither PyAV nor constriction, and a call carries at
# most 64 MiB. Here, `bash benchmarks/gpu/prepare.sh [RUN_OR_MODEL]` makes the git-ignored
# folders to carry along (device run with carry [".whl", ".gpu"]):
#   .whl/  constriction's cp312 wheel
#   .gpu/videos/  the files of ../shared/data/videos, tree.avi as a lossless FFV1 copy
#          (OpenCV stops decoding its Cinepak after 68 frames; PyAV also gives 68)
#   .gpu/init.{json,safetensors}  the run to start from, in fp16 (when one is given)
#   .gpu/carphone8.y4m  the first 8 frames of the bundled sample
# On 2026-11-28 the same folders were made by hand, the weights as .gpu/gvc1d-q10f.json
# (INIT=.gpu/gvc1d-q10f.json), with `bash benchmarks/gpu/session.sh 540`.
# Results land in $OUT: cross_device*.{md,json}, $MODEL-gpu.{json,safetensors}, run.tgz (logs).
DEADLINE=${1:-480}; DEVS=${DEVS:-cpu,cuda}; SIZES=${SIZES:-sample,480p}; BIG=${BIG-720p}; BATCH=${BATCH:-32}
MODEL=${MODEL:-gvc1d}; INIT=${INIT:-.gpu/init.json}; CROSS=${CROSS:-1}; PRECS=${PRECS:-int,float64}
TRAIN_ARGS=${TRAIN_ARGS:-data.synthetic_fraction=0.3 data.frames=5 train.optim.lr=0.0002 train.optim.min_lr=0.00002 train.optim.warmup_steps=100}
OUT=${OUT:-/tmp/out}; mkdir -p $OUT/run
export PYTHONUNBUFFERED=1
if [ -z "$SKIP_WHL" ] && [ -d .whl ]; then python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1; fi
export PYTHONPATH=/tmp/site:${EXTRA_PATH}src
V="python3 -m vid1d"
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; python3 -c "import torch,sys; print(sys.version.split()[0], torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())"; nproc) 2>&1 | tee $OUT/run/machine.txt
echo "[$SECONDS s] convert"; python3 benchmarks/gpu/convert_videos.py .gpu/videos /tmp/data || exit 1
if [ "$CROSS" = 1 ]; then
echo "[$SECONDS s] cross_device"
for P in ${PRECS//,/ }; do
timeout 100 python3 benchmarks/cross_device.py --sample .gpu/carphone8.y4m --devices $DEVS --sizes $SIZES --precision $P --out $OUT/cross_device_$P 2>&1 | grep -v frame/s | tail -12
[ -n "$BIG" ] && timeout 100 python3 benchmarks/cross_device.py --sample .gpu/carphone8.y4m --devices $DEVS --sizes $BIG --frames 4 --precision $P --out $OUT/cross_device_big_$P 2>&1 | grep -v frame/s | tail -6
done
fi
COMMON="--preset small --data /tmp/data data.kind=mixed data.workers=${WORKERS:-12} train.batch_size=$BATCH train.init=$INIT $TRAIN_ARGS"
echo "[$SECONDS s] probe"
$V train $MODEL $COMMON --out /tmp/probe train.steps=${PROBE:-40} train.log_every=10 train.val_every=100000 train.sample_every=100000 train.ckpt_every=100000 > $OUT/run/probe.log 2>&1 || { tail -5 $OUT/run/probe.log; exit 1; }
SPS=$(grep samples_per_s /tmp/probe/metrics.jsonl | tail -1 | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['samples_per_s'])")
LEFT=$((DEADLINE - SECONDS - 25))
if [ $LEFT -lt 60 ]; then echo "[$SECONDS s] only $LEFT s left before the deadline: no training run"; exit 1; fi
STEPS=$(python3 -c "print(max(100, int($LEFT * $SPS / $BATCH * 0.93) // 50 * 50))")
VE=$(( (STEPS / 4) / 50 * 50 )); [ $VE -lt 50 ] && VE=50
echo "[$SECONDS s] probe: $SPS samples/s; training $STEPS steps (val every $VE) in ~$LEFT s"
timeout $((LEFT + 60)) $V train $MODEL $COMMON --out /tmp/gpurun train.steps=$STEPS train.val_every=$VE train.sample_every=$VE train.ckpt_every=$VE > $OUT/run/train.log 2>&1
echo "[$SECONDS s] train rc=$?"; tail -c 400 $OUT/run/train.log
$V export /tmp/gpurun -o $MODEL-gpu --dir $OUT --dtype fp16 2>&1 | tail -2
cp /tmp/gpurun/metrics.jsonl /tmp/gpurun/config.yaml /tmp/gpurun/train.log $OUT/run/ 2>/dev/null
ls /tmp/gpurun/samples > $OUT/run/samples.txt 2>/dev/null
cd $OUT && tar czf run.tgz run && rm -rf run; echo "[$SECONDS s] done"; ls -la $OUT
