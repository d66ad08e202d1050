#!/bin/sh
# Filter2D speed: dlcv (imgproc.Filter2D) against OpenCV's cv2.filter2D on
# the same 1920x1080 float32 image and kernels, at 1 and 2 threads
# (cv2.setNumThreads and Options.Threads), in one run. Go and OpenCV runs
# are interleaved so both see the same machine load; the table gives
# medians and dlcv/cv2 ratios, and for 3x3 kernels also the times when
# both write into a given output (Filter2DInto, cv2.filter2D dst=).
# Each side times at least 0.2 s of calls per kernel and round, so a short
# burst of load (or the Go heap's first growth) weighs the same on both.
#
#   bench/imgproc/run.sh [ROUNDS [KERNELS]]
#
# ROUNDS defaults to 5; KERNELS is a regular expression that whole kernel
# names (dense3 sharpen sobel-x box21 gauss21 dense21) must match, default
# all, e.g. 'dense3|sharpen|sobel-x' for the 3x3 rows alone. PYTHON defaults to
# /usr/bin/python3. The load average is printed before and after.
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-5}
kernels=${2:-.*}
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/imgproc.test" ./imgproc
echo "before: $(uptime)"
i=0
while [ "$i" -lt "$rounds" ]; do
	"$tmp/imgproc.test" -test.run '^$' -test.bench "BenchmarkFilter2D(Into)?/^k=($kernels)\$/" -test.benchtime 200ms >>"$tmp/go.txt"
	"$py" bench/imgproc/cv2_filter2d.py time 1 "$kernels" >>"$tmp/cv.txt"
	i=$((i + 1))
done
echo "after: $(uptime)"
"$py" bench/imgproc/cv2_filter2d.py report "$tmp/go.txt" "$tmp/cv.txt"
