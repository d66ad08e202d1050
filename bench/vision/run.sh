#!/bin/sh
# Load test of 'dlcv serve' on loopback (see bench/vision/main.go): RUNS runs
# of 32 clients x 30 s of LABEL_DETECTION on cat.bmp plus a 10 s flood of
# oversized requests, then RUNS runs of 2 clients x 10 s (no queueing:
# the latency of one request).
# Usage: bench/vision/run.sh [RUNS]   (needs the shared data: $DLCV_SHARED or ../shared)
set -eu
cd "$(dirname "$0")/../.."
runs=${1:-3}
shared=${DLCV_SHARED:-../shared}
m=$shared/models/coral
bin=$(mktemp -d)/dlcv
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/dlcv
go build -o "$bin-bench" ./bench/vision
common="-dlcv $bin -model $m/mobilenet_v2_1.0_224_quant.tflite -labels $m/imagenet_labels.txt -image $m/cat.bmp"
i=1
while [ "$i" -le "$runs" ]; do
	echo "=== load + flood, run $i"
	"$bin-bench" $common
	i=$((i + 1))
done
i=1
while [ "$i" -le "$runs" ]; do
	echo "=== 2 clients, run $i"
	"$bin-bench" $common -clients 2 -duration 10s -flood-duration 0
	i=$((i + 1))
done
