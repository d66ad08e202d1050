#!/usr/bin/env bash
# Compares dlcv's training speed and peak memory for ResNet-20 (batch 128)
# and MiniVGGNet (batch 64) on 32x32x3 images with PyTorch CPU
# (bench/resnet/torch_resnet.py) at the same number of threads, alternating
# the two so that machine load affects both.
# Usage: bench/resnet/run.sh [rounds] [threads]   (from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
threads=${2:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/zoo.test" ./zoo/
go build -o "$dir/trainrss" ./bench/lenet/trainrss
echo "go: $(go version | cut -d' ' -f3-); $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exec /usr/bin/python3 bench/resnet/compare.py "$dir/zoo.test" "$dir/trainrss" "$rounds" "$threads"
