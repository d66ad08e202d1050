#!/usr/bin/env bash
# Inference speed against ONNX Runtime (issue 12's targets): exports
# torchvision's mobilenet_v2, resnet18, efficientnet_b0 and
# mobilenet_v3_small (random weights, opset 13; Debian python3-torch and
# python3-torchvision) with inputs for batch 1 and 32, then times each in
# dlcv and ONNX Runtime (Node.js binding, shared/peers/install.sh)
# alternately at batch 1 on 1 and 2 threads and batch 32 on 2 threads,
# and prints the table of docs/benchmarks.md (bench/onnx/speed.py).
#
#   bench/onnx/speed.sh [ROUNDS] [MODEL ...]     # default 5 rounds, the four models
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
shift || true
models=("$@")
((${#models[@]})) || models=(mobilenet_v2 resnet18 efficientnet_b0 mobilenet_v3_small)
dir=${OUT:-/tmp/dlcv-onnx-speed}
mkdir -p "$dir"
for m in "${models[@]}"; do
	[[ -f $dir/$m.onnx ]] || /usr/bin/python3 bench/onnx/export_torchvision.py "$dir" "${models[@]}"
done
[[ -f $dir/input_b32.npy ]] || /usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(5).standard_normal((32, 3, 224, 224)).astype(np.float32))" "$dir/input_b32.npy"
go build -o "$dir/speed" ./bench/onnx/speed
echo "$(go version | cut -d' ' -f3); $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 bench/onnx/speed.py "$dir/speed" "$dir" "$rounds" "${models[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
