#!/bin/sh
# Soak and fault test of 'dlcv serve' on loopback (bench/vision/soak/main.go):
# 32 closed-loop clients with every feature on, slow-header and slow-body
# clients, and a flood of 200 requests (oversized bodies, decompression
# bombs, 16-bit PNGs over --max-image-bytes, valid ones) every minute. It
# prints requests/s, p50/p99 of accepted requests, counts by status and the
# server's RSS every 30 s, and fails on a transport error, a 500, RSS growing
# more than 15% from the second minute to the last, or a p99 of accepted
# LABEL_DETECTION requests over 500 ms.
# Usage: bench/vision/soak.sh [DURATION [more soak flags]]   (default 10m;
# needs the shared data: $DLCV_SHARED or ../shared)
set -eu
cd "$(dirname "$0")/../.."
duration=${1:-10m}
[ $# -gt 0 ] && shift
shared=${DLCV_SHARED:-../shared}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/dlcv" ./cmd/dlcv
go build -o "$dir/soak" ./bench/vision/soak
# The run is bounded: the soak stops its clients at DURATION and the
# server with them; timeout is the backstop.
secs=$(echo "$duration" | awk '/m$/ {print int($0)*60; next} /s$/ {print int($0); next} {print int($0)}')
exec timeout $((secs + 120)) "$dir/soak" -dlcv "$dir/dlcv" -shared "$shared" -duration "$duration" "$@"
