#!/usr/bin/env bash
# Compares dlcv's Conv2D forward and backward with PyTorch's conv2d on
# LeNet's two convolutions at batch 128, both on all cores, alternating the
# two so that machine load affects both.
# Usage: bench/conv/run.sh [rounds]   (run from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}

bin=$(mktemp -d)/nn.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./nn/

echo "go: $(go version | cut -d' ' -f3-); torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
exec /usr/bin/python3 bench/conv/compare.py "$bin" "$rounds"
