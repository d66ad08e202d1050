#!/bin/sh
# Haar face detection on a 640x480 photo: dlcv's detect package against
# OpenCV's detectMultiScale (same cascade, same parameters), measured in
# the same run. Prints medians and the ratio dlcv/OpenCV (lower is better).
# Usage: bench/detect/run.sh [runs]   (from the repository root)
set -eu
runs=${1:-7}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${DLCV_SHARED:-$(dirname "$root")/shared}
cd "$root"
ncpu=$(getconf _NPROCESSORS_ONLN)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# Interleave the two peers so that load from other processes hits both.
for i in 1 2; do
  /usr/bin/python3 bench/detect/opencv_detect.py "$shared" "$runs" >>"$tmp"
  DLCV_SHARED=$shared go test -run '^$' -bench '^BenchmarkDetect640' -benchtime 3x -count "$runs" -cpu "$ncpu" ./detect |
    awk '/^BenchmarkDetect640/ { n=$1; sub(/-[0-9]+$/, "", n); print "go " n " ns=" $3 }' >>"$tmp"
done
/usr/bin/python3 - "$tmp" "$ncpu" <<'PY'
import re, statistics, sys
lines = open(sys.argv[1]).read().split("\n")
ncpu = sys.argv[2]
cv = {}
go = {}
for l in lines:
    m = re.match(r"opencv threads=(\d+) median_ms=([\d.]+)", l)
    if m:
        cv.setdefault(m[1], []).append(float(m[2]))
    m = re.match(r"go (\S+) ns=(\d+)", l)
    if m:
        go.setdefault(m[1], []).append(int(m[2]) / 1e6)
ocv1, ocvn = statistics.median(cv["1"]), statistics.median(cv[ncpu])
g1 = statistics.median(go["BenchmarkDetect640Serial"])
gn = statistics.median(go["BenchmarkDetect640"])
print(f"640x480 photo, haarcascade_frontalface_default, scale 1.1, 3 neighbours")
print(f"1 thread : dlcv {g1:7.1f} ms  opencv {ocv1:7.1f} ms  ratio {g1/ocv1:.2f}x")
print(f"{ncpu} threads: dlcv {gn:7.1f} ms  opencv {ocvn:7.1f} ms  ratio {gn/ocvn:.2f}x")
PY
