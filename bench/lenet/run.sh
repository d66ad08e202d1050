#!/usr/bin/env bash
# Compares dlcv's LeNet training (batch 128, SGD) and inference (batch 256)
# speed with PyTorch CPU (bench/lenet/torch_lenet.py) at the same number of
# threads, alternating the two so that machine load affects both, and
# reports each side's peak RSS while training.
# Usage: bench/lenet/run.sh [rounds] [threads]   (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
threads=${2:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/zoo.test" ./zoo/
go build -o "$dir/trainrss" ./bench/lenet/trainrss
echo "go: $(go version | cut -d' ' -f3-); $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exec /usr/bin/python3 bench/lenet/compare.py "$dir/zoo.test" "$dir/trainrss" "$rounds" "$threads"
