#!/usr/bin/env bash
# Per-layer times of one of bench/onnx/speed.sh's models in dlcv (its
# session profile) and ONNX Runtime (its profiler), one after the other,
# with the layers where dlcv loses most first (bench/onnx/layers.py).
# Both profilers add some time per node; compare layers, not totals.
#
#   bench/onnx/layers.sh MODEL [THREADS [REPS [BATCH]]]   # default 1 thread, 50 runs, batch 1
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:?usage: bench/onnx/layers.sh MODEL [THREADS [REPS [BATCH]]]}
threads=${2:-1}
reps=${3:-50}
batch=${4:-1}
dir=${OUT:-/tmp/dlcv-onnx-speed}
mkdir -p "$dir"
# The export writes the batch-1 input too; batch 32's is speed.sh's.
[[ -f $dir/$model.onnx && -f $dir/input_b1.npy ]] || /usr/bin/python3 bench/onnx/export_torchvision.py "$dir" "$model"
[[ -f $dir/input_b32.npy ]] || /usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(5).standard_normal((32, 3, 224, 224)).astype(np.float32))" "$dir/input_b32.npy"
input=$dir/input_b$batch.npy
[[ -f $input ]] || { echo "no input for batch $batch (have 1 and 32)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/layers" ./bench/onnx/layers
GOMAXPROCS=$threads "$tmp/layers" "$dir/$model.onnx" "$input" "$reps" >"$tmp/dlcv.tsv"
node bench/onnx/ort_profile.js "$dir/$model.onnx" "$input" "$threads" $((reps + 1)) "$tmp/ort"
echo "$model, batch $batch, $threads threads, $reps runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 bench/onnx/layers.py "$tmp/dlcv.tsv" "$tmp"/ort_*.json
