"""PyTorch peer for bench/tflite/run.sh: MobileNet v2 1.0 (224x224, 1001
classes) in float32 with random weights and batch norm folded away (as in
the TFLite file), timed single-image and batch 32 (args: RUNS THREADS, default 5 2).
Prints "torch batch=N ms_per_img=X cpu_ms_per_img=Y" lines (medians;
CPU time is process user+system time, less sensitive to other load)."""
import statistics
import sys
import time

import torch
import torch.nn as nn


def conv(cin, cout, k, s, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=True)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return layers


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers += conv(cin, hidden, 1, 1)
        layers += conv(hidden, hidden, 3, stride, groups=hidden)
        layers += conv(hidden, cout, 1, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


def mobilenet_v2(classes=1001):
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    layers = conv(3, 32, 3, 2)
    cin = 32
    for t, c, n, s in settings:
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    layers += conv(cin, 1280, 1, 1)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(1280, classes, 1), nn.Flatten(), nn.Softmax(dim=1)]
    return nn.Sequential(*layers)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    torch.manual_seed(0)
    model = mobilenet_v2().eval()
    with torch.no_grad():
        for batch in (1, 32):
            x = torch.randn(batch, 3, 224, 224)
            model(x)  # warm up
            times, cpu = [], []
            for _ in range(runs if batch == 1 else max(2, runs // 3)):
                t0, c0 = time.perf_counter(), time.process_time()
                model(x)
                times.append((time.perf_counter() - t0) * 1000 / batch)
                cpu.append((time.process_time() - c0) * 1000 / batch)
            print(f"torch batch={batch} ms_per_img={statistics.median(times):.2f} cpu_ms_per_img={statistics.median(cpu):.2f}")


if __name__ == "__main__":
    main()
