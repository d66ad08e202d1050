#!/bin/sh
# Filter2D speed: dlcv (imgproc.Filter2D) against OpenCV's cv2.filter2D on
# the same 1920x1080 float32 image and kernels, at 1 and 2 threads
# (cv2.setNumThreads and Options.Threads), in one run. Go and OpenCV runs
# are interleaved so both see the same machine load; the table gives
# medians and dlcv/cv2 ratios.
#
#   bench/imgproc/run.sh [ROUNDS]      (default 5; PYTHON=/usr/bin/python3)
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-5}
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/imgproc.test" ./imgproc
i=0
while [ "$i" -lt "$rounds" ]; do
	"$tmp/imgproc.test" -test.run '^$' -test.bench 'BenchmarkFilter2D' -test.benchtime 10x >>"$tmp/go.txt"
	"$py" bench/imgproc/cv2_filter2d.py time 1 >>"$tmp/cv.txt"
	i=$((i + 1))
done
"$py" bench/imgproc/cv2_filter2d.py report "$tmp/go.txt" "$tmp/cv.txt"
