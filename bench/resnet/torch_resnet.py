"""PyTorch CPU side of the ResNet-20 / MiniVGGNet training benchmark
(bench/resnet/run.sh).

The same networks as dlcv's zoo: ResNet-20 for 32x32 inputs (He et al.
2016, section 4.2: a 3x3 conv of 16 filters, three stages of three basic
blocks with 16, 32 and 64 filters, 1x1 convolution + batch norm projection
shortcuts where the shape changes, global average pooling, dense softmax)
and MiniVGGNet. Trains with SGD (lr 0.01, momentum 0.9) and cross-entropy
on random data held in memory. PyTorch runs each network in both memory
formats (NCHW and channels_last) and the faster one is reported. Prints
one JSON line: images/s, CPU ms per step, peak RSS.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--arch", default="resnet20")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--repeats", type=int, default=3)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01))

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (x if self.proj is None else self.proj(x)))


class ResNet20(nn.Module):
    def __init__(self, n=3, classes=10):
        super().__init__()
        self.c = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.b = nn.BatchNorm2d(16, eps=1e-3, momentum=0.01)
        blocks, cin = [], 16
        for i, f in enumerate([16, 32, 64]):
            for j in range(n):
                blocks.append(Basic(cin, f, 2 if i > 0 and j == 0 else 1))
                cin = f
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.b(self.c(x))))
        return self.fc(x.mean((2, 3)))


def minivgg(classes=10):
    def block(cin, f):
        return [nn.Conv2d(cin, f, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(f, eps=1e-3, momentum=0.01),
                nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(f, eps=1e-3, momentum=0.01),
                nn.MaxPool2d(2), nn.Dropout(0.25)]
    return nn.Sequential(*block(3, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 8 * 8, 512), nn.ReLU(),
                         nn.BatchNorm1d(512, eps=1e-3, momentum=0.01), nn.Dropout(0.5), nn.Linear(512, classes))


def make():
    return ResNet20() if a.arch == "resnet20" else minivgg()


def run(fmt):
    net = make().train().to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(a.batch, 3, 32, 32).to(memory_format=fmt)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    for _ in range(2):
        step()
    best, cpu = 0.0, 0.0
    for _ in range(a.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.steps):
            step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if a.steps * a.batch / dt > best:
            best, cpu = a.steps * a.batch / dt, dc / a.steps * 1e3
    return best, cpu


results = {name: run(fmt) for name, fmt in [("nchw", torch.contiguous_format), ("channels_last", torch.channels_last)]}
fmt = max(results, key=lambda k: results[k][0])
rate, cpu = results[fmt]
print(json.dumps({"peer": f"PyTorch {torch.__version__} ({fmt})", "train_images_per_s": rate,
                  "train_cpu_ms_per_step": cpu,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
