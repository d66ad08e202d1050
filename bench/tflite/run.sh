#!/bin/sh
# Benchmarks MobileNet v2 224 inference: dlcv's TFLite engine
# (mobilenet_v2_1.0_224_quant.tflite) against PyTorch float32 on the same
# architecture, both on the same number of threads, in one run. Prints ms per image and the
# ratio torch/dlcv (above 1: dlcv is faster), in wall time and in process
# CPU time (robust to other load on a shared machine). Threads: $THREADS
# (default 2).
# Usage: [THREADS=2] bench/tflite/run.sh [RUNS]
# (needs the shared data and /usr/bin/python3 with torch)
set -eu
cd "$(dirname "$0")/../.."
runs=${1:-5}
threads=${THREADS:-2}
py=${PYTHON:-/usr/bin/python3}

go_out=$(GOMAXPROCS=$threads go test -run '^$' -bench 'BenchmarkMobileNetV2' -benchtime "${runs}x" -count 3 ./tflite)
echo "$go_out" | grep -E '^Benchmark' || { echo "$go_out"; exit 1; }
torch_out=$("$py" bench/tflite/mobilenet_v2_torch.py "$runs" "$threads")
echo "$torch_out"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# goval BENCH-REGEX UNIT: median of a metric over the -count runs
goval() { echo "$go_out" | awk -v re="$1" -v unit="$2" '$0 ~ re {for(i=1;i<=NF;i++) if($(i+1)==unit) print $i}' | median; }
tval() { echo "$torch_out" | awk -v b="batch=$1" -v key="$2" '$2 == b {for(i=3;i<=NF;i++) {split($i, kv, "="); if(kv[1]==key) print kv[2]}}'; }
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1/$2}'; }
one='^BenchmarkMobileNetV2(-[0-9]+)?[ \t]'
b32='^BenchmarkMobileNetV2Batch32'
echo
printf '%-22s %9s %9s %7s   %9s %9s %7s\n' "case ($threads threads)" "dlcv ms" "torch ms" "ratio" "dlcv cpu" "torch cpu" "ratio"
for c in 1 32; do
	if [ $c = 1 ]; then re=$one; name="batch 1 (latency)"; else re=$b32; name="batch 32 (per image)"; fi
	gw=$(goval "$re" ms/img); gc=$(goval "$re" cpu-ms/img)
	tw=$(tval $c ms_per_img); tc=$(tval $c cpu_ms_per_img)
	printf '%-22s %9s %9s %7s   %9s %9s %7s\n' "$name" "$gw" "$tw" "$(ratio "$tw" "$gw")" "$gc" "$tc" "$(ratio "$tc" "$gc")"
done
