#!/bin/sh
# Latency of each annotate feature through 'dlcv serve' on loopback, one
# request at a time, a 640x480 photo, GOMAXPROCS=2 (bench/vision/latency);
# then the load test with every feature on (bench/vision: 8 clients x 20 s,
# p50/p99 and RSS).
# Usage: bench/vision/latency.sh [ROUNDS]   (needs the shared data: $DLCV_SHARED or ../shared)
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-30}
shared=${DLCV_SHARED:-../shared}
m=$shared/models
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/dlcv" ./cmd/dlcv
go build -o "$dir/latency" ./bench/vision/latency
go build -o "$dir/load" ./bench/vision
"$dir/latency" -dlcv "$dir/dlcv" -shared "$shared" -rounds "$rounds"
echo
GOMAXPROCS=2 "$dir/load" -dlcv "$dir/dlcv" -model "$m/coral/mobilenet_v2_1.0_224_quant.tflite" -labels "$m/coral/imagenet_labels.txt" \
	-image "$m/coral/grace_hopper.bmp" -want "military uniform" -clients 8 -duration 20s -flood-duration 5s -direct-duration 0 \
	-features OBJECT_LOCALIZATION,LABEL_DETECTION,IMAGE_PROPERTIES,SAFE_SEARCH_DETECTION,FACE_DETECTION \
	-serve-args "--concurrency 2 --queue 64 --objects-model $m/tfjs/human/centernet.json --safesearch-model $m/tfjs/nsfw-mobilenet-v2/model.json --blazeface-model $m/tfjs/human/blazeface.json --emotion-model $m/tfjs/human/emotion.json --smile-model none"
