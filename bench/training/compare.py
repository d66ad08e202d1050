"""Runs the Go benchmarks and the same work in PyTorch alternately and
prints medians and the ratio torch/dlcv (> 1: dlcv faster). Called by
run.sh."""
import re
import statistics
import subprocess
import sys
import time

import torch

torch.set_num_threads(1)
d, rounds = sys.argv[1], int(sys.argv[2])

# name: (test binary, benchmark regexp, torch setup returning a step function)


def bn():
    m = torch.nn.BatchNorm2d(32).train()
    x = torch.randn(32, 32, 16, 16).to(memory_format=torch.channels_last).requires_grad_(True)

    def step():
        y = m(x)
        y.backward(y.detach())
    return step


def relu():
    x = torch.randn(32, 16, 16, 32, requires_grad=True)

    def step():
        y = torch.relu(x)
        y.backward(y.detach())
    return step


def opt(make):
    def setup():
        p = torch.zeros(1 << 20, requires_grad=True)
        p.grad = torch.full_like(p, 0.1)
        o = make([p])
        return o.step
    return setup


cases = {
    "BatchNorm (32,16,16,32) fwd+bwd": ("nn", "^BenchmarkBatchNorm$", bn),
    "ReLU (32,16,16,32) fwd+bwd": ("nn", "^BenchmarkReLU$", relu),
    "SGD momentum step, 1M params": ("optim", "^BenchmarkStep$/^sgd$",
                                     opt(lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9))),
    "Adam step, 1M params": ("optim", "^BenchmarkStep$/^adam$",
                             opt(lambda ps: torch.optim.Adam(ps))),
    "RMSprop step, 1M params": ("optim", "^BenchmarkStep$/^rmsprop$",
                                opt(lambda ps: torch.optim.RMSprop(ps))),
}


def go_ns(binary, bench):
    out = subprocess.run([f"{d}/{binary}.test", "-test.run", "^$", "-test.bench", bench,
                          "-test.benchtime", "0.5s"], check=True, capture_output=True, text=True).stdout
    return float(re.search(r"\s(\d+(?:\.\d+)?) ns/op", out).group(1))


def torch_ns(setup):
    step = setup()
    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.5:
        step()
        n += 1
    return (time.perf_counter() - t0) / n * 1e9


res = {k: ([], []) for k in cases}
for _ in range(rounds):
    for k, (binary, bench, setup) in cases.items():
        res[k][0].append(go_ns(binary, bench))
        res[k][1].append(torch_ns(setup))
print(f"torch {torch.__version__}, 1 thread; medians of {rounds} rounds")
print(f"{'case':34} {'dlcv ms':>9} {'torch ms':>9} {'torch/dlcv':>10}")
for k, (g, t) in res.items():
    g, t = statistics.median(g) / 1e6, statistics.median(t) / 1e6
    print(f"{k:34} {g:9.3f} {t:9.3f} {t / g:10.2f}")
