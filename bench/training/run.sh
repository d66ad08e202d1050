#!/usr/bin/env bash
# Compares dlcv's BatchNorm, ReLU and optimizer steps with PyTorch CPU
# (one thread each), alternating the two so machine load affects both.
# Usage: bench/training/run.sh [rounds]   (run from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/nn.test" ./nn/
go test -c -o "$dir/optim.test" ./optim/
echo "go: $(go version | cut -d' ' -f3-)"
exec /usr/bin/python3 bench/training/compare.py "$dir" "$rounds"
