#!/usr/bin/env bash
# Compares dlcv's Sgemm with numpy's OpenBLAS sgemm, single-threaded, at
# 512^3 and 1024^3, interleaving the two so that machine load affects both.
# Usage: bench/sgemm/run.sh [rounds]   (run from anywhere in the repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}

# OpenBLAS picks its kernel from the CPU; pin the AVX-512 one (SkylakeX) and
# drop any cache-size override from the environment.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX

bin=$(mktemp -d)/kernels.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./internal/kernels/

echo "go: $(go version | cut -d' ' -f3-); dlcv kernels (default first): $("$bin" -test.run '^TestKernelInfo$' -test.v | sed -n 's/.*kernels: //p')"
OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import numpy' 2>&1 | sed 's/^/openblas /'
exec /usr/bin/python3 bench/sgemm/compare.py "$bin" "$rounds"
