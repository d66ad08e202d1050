"""Runs dlcv's BenchmarkConv2DForward/Backward and the same convolutions in
PyTorch alternately; prints median ms per batch and the ratio
dlcv time / PyTorch time (below 1 means dlcv is faster). Called by run.sh.

Backward means all of dX, dW and db, as in a training step.
"""
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

binary, rounds = sys.argv[1], int(sys.argv[2])
threads = os.cpu_count()
torch.set_num_threads(threads)
# name: (H, W, Cin, F), 5x5 kernel, same padding, batch 128
shapes = {"conv1": (28, 28, 1, 20), "conv2": (14, 14, 20, 50)}
N = 128


def torch_ms(h, w, cin, f, backward, reps=10):
    x = torch.randn(N, cin, h, w, requires_grad=backward)
    wt = torch.randn(f, cin, 5, 5, requires_grad=backward)
    b = torch.randn(f, requires_grad=backward)
    dy = torch.randn(N, f, h, w)
    if backward:
        y = F.conv2d(x, wt, b, padding=2)
        run = lambda: torch.autograd.grad(y, (x, wt, b), dy, retain_graph=True)
    else:
        run = lambda: F.conv2d(x, wt, b, padding=2)
    with torch.set_grad_enabled(backward):
        run()
        t = time.perf_counter()
        for _ in range(reps):
            run()
    return (time.perf_counter() - t) / reps * 1e3


def go_ms():
    out = subprocess.run(
        [binary, "-test.run", "^$", "-test.bench", "^BenchmarkConv2D(Forward|Backward)$",
         "-test.benchtime", "10x"], check=True, capture_output=True, text=True).stdout
    res = {}
    for m in re.finditer(r"BenchmarkConv2D(Forward|Backward)/(conv\d)\S*\s+\d+\s+(\d+) ns/op", out):
        res[(m.group(2), m.group(1) == "Backward")] = int(m.group(3)) / 1e6
    return res


ours, peer = {}, {}
for _ in range(rounds):
    for k, v in go_ms().items():
        ours.setdefault(k, []).append(v)
    for name, s in shapes.items():
        for bw in (False, True):
            peer.setdefault((name, bw), []).append(torch_ms(*s, bw))

print(f"{'layer':<16} {'dlcv ms':>9} {'torch ms':>9} {'ratio':>6}   (medians of {rounds} rounds, {threads} threads, batch {N})")
for name in shapes:
    for bw in (False, True):
        o, p = statistics.median(ours[(name, bw)]), statistics.median(peer[(name, bw)])
        print(f"{name + (' backward' if bw else ' forward'):<16} {o:9.2f} {p:9.2f} {o / p:6.2f}")
