"""Runs the Go SGEMM benchmark and numpy's sgemm (OpenBLAS) alternately,
single-threaded, and prints median GFLOP/s and the ratio dlcv/OpenBLAS.
Rates are computed from process CPU time (robust on a shared machine: time
slices given to other processes are not counted) and from wall time.
Called by run.sh: compare.py TEST_BINARY ROUNDS."""
import re
import statistics
import subprocess
import sys
import time

import numpy as np

binary, rounds = sys.argv[1], int(sys.argv[2])
sizes = (512, 1024)


def numpy_gflops(n):
    rng = np.random.default_rng(1)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    reps = max(1, int(4e9 / (2 * n**3)))  # about 4 GFLOP per sample
    w, t = time.perf_counter(), time.process_time()
    for _ in range(reps):
        np.matmul(a, b, out=c)
    t, w = time.process_time() - t, time.perf_counter() - w
    flops = 2 * n**3 * reps
    return flops / t / 1e9, flops / w / 1e9


def go_gflops():
    out = subprocess.run(
        [binary, "-test.run", "^$", "-test.bench", r"^BenchmarkSgemm$/^(512|1024)/t1$",
         "-test.benchtime", "1s"],
        check=True, capture_output=True, text=True).stdout
    res = {}
    pat = r"BenchmarkSgemm/(\d+)/t1\S*\s+\d+\s+\d+ ns/op\s+([\d.]+) GFLOP/s\s+([\d.]+) GFLOP/s-cpu"
    for m in re.finditer(pat, out):
        res[int(m.group(1))] = (float(m.group(3)), float(m.group(2)))
    if len(res) != len(sizes):
        sys.exit("could not parse the Go benchmark output:\n" + out)
    return res


ours = {n: [] for n in sizes}
blas = {n: [] for n in sizes}
for _ in range(rounds):
    for n, g in go_gflops().items():
        ours[n].append(g)
    for n in sizes:
        blas[n].append(numpy_gflops(n))


def med(xs, i):
    return statistics.median(x[i] for x in xs)


print(f"medians of {rounds} rounds, 1 thread, GFLOP/s (CPU time | wall time)")
print(f"{'size':>6} {'dlcv':>7} {'OpenBLAS':>9} {'ratio':>6} | {'dlcv':>7} {'OpenBLAS':>9} {'ratio':>6}")
for n in sizes:
    oc, bc, ow, bw = med(ours[n], 0), med(blas[n], 0), med(ours[n], 1), med(blas[n], 1)
    print(f"{n:>6} {oc:7.1f} {bc:9.1f} {oc / bc:6.2f} | {ow:7.1f} {bw:9.1f} {ow / bw:6.2f}")
