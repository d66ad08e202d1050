#!/usr/bin/env bash
# Whole-model agreement with ONNX Runtime: exports torchvision 0.14's
# classification architectures (seeded random weights, opset 13, dynamic
# batch), runs them in ONNX Runtime (Node.js binding) and in dlcv on batch
# 1 and 4 and prints the table of docs/import.md. Needs /usr/bin/python3
# with torch and torchvision, and node with onnxruntime-node
# (shared/peers/install.sh). About 10 minutes on 2 cores.
#
#   bash bench/onnx/run.sh [OUTDIR] [ARCH ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/dlcv-onnx-bench}"
shift || true
/usr/bin/python3 bench/onnx/export_torchvision.py "$out" "$@"
THREADS="${THREADS:-0}" node bench/onnx/ort_run.js "$out"
go run ./bench/onnx/agree "$out"
