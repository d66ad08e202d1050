#!/bin/sh
# Benchmarks MobileNet v2 224 inference: dlcv's TFLite engine
# (mobilenet_v2_1.0_224_quant.tflite) against PyTorch float32 on the same
# architecture, both on the same number of threads, in one run. Prints ms per image and the
# ratio torch/dlcv (above 1: dlcv is faster). Threads: $THREADS (default 2).
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
go1=$(echo "$go_out" | awk '/^BenchmarkMobileNetV2(-[0-9]+)?[ \t]/ {for(i=1;i<=NF;i++) if($(i+1)=="ms/img") print $i}' | median)
go32=$(echo "$go_out" | awk '/^BenchmarkMobileNetV2Batch32/ {for(i=1;i<=NF;i++) if($(i+1)=="ms/img") print $i}' | median)
t1=$(echo "$torch_out" | awk -F'ms_per_img=' '/batch=1 / {print $2}')
t32=$(echo "$torch_out" | awk -F'ms_per_img=' '/batch=32 / {print $2}')
echo
printf '%-22s %10s %10s %8s\n' "case" "dlcv ms" "torch ms" "ratio"
printf '%-22s %10s %10s %8.2f\n' "batch 1 (latency)" "$go1" "$t1" "$(echo "$t1 $go1" | awk '{print $1/$2}')"
printf '%-22s %10s %10s %8.2f\n' "batch 32 (per image)" "$go32" "$t32" "$(echo "$t32 $go32" | awk '{print $1/$2}')"
