"""Runs dlcv's training benchmarks for ResNet-20 and MiniVGGNet and
bench/resnet/torch_resnet.py alternately (so that machine load affects
both alike), then prints medians, the ratios dlcv/torch (> 1: dlcv faster)
and each side's peak RSS while training.
Called by run.sh: compare.py ZOO_TEST_BINARY TRAINRSS_BINARY ROUNDS THREADS"""
import json
import os
import re
import statistics
import subprocess
import sys

zoo_test, trainrss, rounds, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, GOMAXPROCS=str(threads))
archs = [("resnet20", "ResNet20", 128), ("minivggnet", "MiniVGGNet", 64)]


def go_rate(bench):
    out = subprocess.run([zoo_test, "-test.run", "^$", "-test.bench", f"^Benchmark{bench}TrainStep$",
                          "-test.benchtime", "10x", "-test.benchmem"],
                         check=True, capture_output=True, text=True, env=env).stdout
    for line in out.splitlines():
        m = re.match(rf"Benchmark{bench}TrainStep(?:-\d+)?\s+\d+\s+.*?([\d.]+) cpu-ms/op\s+([\d.]+) images/s.*?(\d+) allocs/op", line)
        if m:
            return float(m.group(2)), float(m.group(1)), int(m.group(3))
    raise SystemExit(f"no result for {bench} in:\n{out}")


def torch_rate(arch, batch):
    out = subprocess.run(["/usr/bin/python3", os.path.join(here, "torch_resnet.py"), "--arch", arch, "--threads", str(threads),
                          "--batch", str(batch), "--steps", "8", "--repeats", "2"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["train_images_per_s"], r["train_cpu_ms_per_step"], r["peak_rss_mb"], r["peer"]


med = statistics.median
for arch, bench, batch in archs:
    g, gc, t, tc, trss, peer, allocs = [], [], [], [], [], "", 0
    for _ in range(rounds):
        rate, cpu, allocs = go_rate(bench)
        g.append(rate)
        gc.append(cpu)
        rate, cpu, rss, peer = torch_rate(arch, batch)
        t.append(rate)
        tc.append(cpu)
        trss.append(rss)
    ours = json.loads(subprocess.run([trainrss, "-arch", arch, "-size", "32x32x3", "-batch", str(batch), "-steps", "12",
                                      "-images", str(4 * batch), "-momentum", "0.9", "-threads", str(threads)],
                                     check=True, capture_output=True, text=True).stdout)
    print(f"{arch}, batch {batch}, 32x32x3, SGD momentum 0.9; {peer}; {threads} threads both sides; medians of {rounds} rounds")
    print(f"  train images/s   dlcv {med(g):7.0f}   torch {med(t):7.0f}   dlcv/torch {med(g) / med(t):5.2f}")
    print(f"  CPU ms per step  dlcv {med(gc):7.0f}   torch {med(tc):7.0f}   torch/dlcv {med(tc) / med(gc):5.2f}")
    print(f"  peak RSS         dlcv {ours['peak_rss_mb']} MB (train.Fit, {ours['steps']} steps)   torch {med(trss):.0f} MB")
    print(f"  dlcv allocs per step: {allocs}; per round dlcv {[round(v) for v in g]} torch {[round(v) for v in t]}")
