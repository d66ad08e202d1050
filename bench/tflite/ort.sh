#!/usr/bin/env bash
# Issue 12's quantized target: the quantized MobileNet v2 (Coral, uint8)
# in dlcv's integer interpreter against ONNX Runtime's float32 time for
# the same architecture (torchvision's mobilenet_v2 exported by
# bench/onnx/export_torchvision.py), batch 1, alternately, round after
# round, each side a fresh process that loads, warms up and times 40
# runs. Prints each side's median (over rounds of each round's median)
# and the ratio dlcv / ONNX Runtime (the target is at most 0.6).
#
#   bench/tflite/ort.sh [ROUNDS] [THREADS]     # default 5 rounds, 2 threads
# (needs the shared data, shared/peers/install.sh, Debian python3-torch)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
threads=${2:-2}
shared=${DLCV_SHARED:-../shared}
dir=${OUT:-/tmp/dlcv-onnx-speed}
mkdir -p "$dir"
[[ -f $dir/mobilenet_v2.onnx ]] || /usr/bin/python3 bench/onnx/export_torchvision.py "$dir" mobilenet_v2
[[ -f $dir/input_b1.npy ]] || /usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(5).standard_normal((1, 3, 224, 224)).astype(np.float32))" "$dir/input_b1.npy"
go build -o "$dir/qspeed" ./bench/tflite/qspeed
model=$shared/models/coral/mobilenet_v2_1.0_224_quant.tflite
photo=$shared/models/coral/cat.bmp
med() { /usr/bin/python3 -c 'import json, statistics, sys; print(statistics.median(json.loads(sys.stdin.read().strip().splitlines()[-1])["runs"]))'; }
dlcv() { GOMAXPROCS=$threads "$dir/qspeed" "$model" "$photo" 40 | med; }
ort() { node bench/onnx/ort_speed.js "$dir/mobilenet_v2.onnx" "$dir/input_b1.npy" "$threads" 40 | med; }
ds=() os=()
for ((r = 0; r < rounds; r++)); do
	if ((r % 2)); then o=$(ort); d=$(dlcv); else d=$(dlcv); o=$(ort); fi
	ds+=("$d") os+=("$o")
	printf 'round %d: dlcv quantized %.2f ms, ONNX Runtime float32 %.2f ms\n' "$r" "$d" "$o"
done
/usr/bin/python3 - "${ds[*]}" "${os[*]}" <<'PY'
import statistics, sys
d = statistics.median(map(float, sys.argv[1].split()))
o = statistics.median(map(float, sys.argv[2].split()))
print(f"median: dlcv quantized {d:.2f} ms, ONNX Runtime float32 {o:.2f} ms, ratio {d / o:.2f} (target <= 0.6)")
PY
