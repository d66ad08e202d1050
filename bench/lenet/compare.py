"""Runs dlcv's LeNet benchmarks and bench/lenet/torch_lenet.py alternately
(so that machine load affects both alike), then prints medians, the ratios
dlcv/torch (> 1: dlcv faster) and each side's peak RSS while training.
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


def go_rates():
    out = subprocess.run([zoo_test, "-test.run", "^$", "-test.bench", "^BenchmarkLeNet(TrainStep|Infer)$",
                          "-test.benchtime", "2s", "-test.benchmem"],
                         check=True, capture_output=True, text=True, env=env).stdout
    rates, cpu, allocs = {}, {}, {}
    for line in out.splitlines():
        m = re.match(r"BenchmarkLeNet(\w+?)(?:-\d+)?\s+\d+\s+.*?([\d.]+) cpu-ms/op\s+([\d.]+) images/s.*?(\d+) allocs/op", line)
        if m:
            cpu[m.group(1)] = float(m.group(2))
            rates[m.group(1)] = float(m.group(3))
            allocs[m.group(1)] = int(m.group(4))
    return rates["TrainStep"], rates["Infer"], cpu["TrainStep"], cpu["Infer"], allocs


def torch_rates():
    out = subprocess.run(["/usr/bin/python3", os.path.join(here, "torch_lenet.py"), "--threads", str(threads),
                          "--steps", "20", "--repeats", "3"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return (r["train_images_per_s"], r["infer_images_per_s"], r["train_cpu_ms_per_step"],
            r["infer_cpu_ms_per_batch"], r["peak_rss_mb"], r["peer"])


gt, gi, gtc, gic, tt, ti, ttc, tic, trss = [], [], [], [], [], [], [], [], []
allocs, peer = {}, ""
for _ in range(rounds):
    a, b, ac, bc, allocs = go_rates()
    gt.append(a)
    gi.append(b)
    gtc.append(ac)
    gic.append(bc)
    c, d, cc, dc, rss, peer = torch_rates()
    tt.append(c)
    ti.append(d)
    ttc.append(cc)
    tic.append(dc)
    trss.append(rss)

ours = json.loads(subprocess.run([trainrss, "-steps", "48", "-threads", str(threads)],
                                 check=True, capture_output=True, text=True).stdout)

med = statistics.median
print(f"{peer}, {threads} threads both sides; medians of {rounds} alternating rounds")
print(f"{'LeNet images/s':28} {'dlcv':>9} {'torch':>9} {'dlcv/torch':>10}")
print(f"{'train, batch 128 (SGD)':28} {med(gt):9.0f} {med(tt):9.0f} {med(gt) / med(tt):10.2f}")
print(f"{'inference, batch 256':28} {med(gi):9.0f} {med(ti):9.0f} {med(gi) / med(ti):10.2f}")
print(f"{'CPU ms (all threads)':28} {'dlcv':>9} {'torch':>9} {'torch/dlcv':>10}")
print(f"{'train step, batch 128':28} {med(gtc):9.1f} {med(ttc):9.1f} {med(ttc) / med(gtc):10.2f}")
print(f"{'inference, batch 256':28} {med(gic):9.1f} {med(tic):9.1f} {med(tic) / med(gic):10.2f}")
print(f"dlcv allocs/op: train {allocs.get('TrainStep')}, inference {allocs.get('Infer')}")
print(f"peak RSS training at batch 128: dlcv {ours['peak_rss_mb']} MB "
      f"(train.Fit, {ours['steps']} steps, {ours['train_images_per_s']} images/s), "
      f"torch {med(trss):.0f} MB (torch_lenet.py process)")
print("per round dlcv train:", [round(v) for v in gt], "torch train:", tt)
print("per round dlcv infer:", [round(v) for v in gi], "torch infer:", ti)
