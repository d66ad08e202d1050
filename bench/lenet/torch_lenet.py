"""PyTorch CPU side of the LeNet benchmark (bench/lenet/run.sh).

Same network as dlcv's zoo LeNet: 28x28x1; conv 20 5x5 same, ReLU,
maxpool 2; conv 50 5x5 same, ReLU, maxpool 2; dense 500 ReLU; dense 10
softmax. Trains with SGD (lr 0.01) and cross-entropy on random data held in
memory; prints one JSON line with images/s for training and inference, the
process CPU time (all threads) per training step and per inference batch,
and the process's peak RSS.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--train-batch", type=int, default=128)
p.add_argument("--infer-batch", type=int, default=256)
p.add_argument("--steps", type=int, default=40)
p.add_argument("--repeats", type=int, default=5)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

net = nn.Sequential(
    nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(50 * 7 * 7, 500), nn.ReLU(), nn.Linear(500, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
x = torch.rand(a.train_batch, 1, 28, 28)
y = torch.randint(0, 10, (a.train_batch,))


def train_steps(n):
    for _ in range(n):
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()


train_steps(5)  # warm up
rates, cpus = [], []
for _ in range(a.repeats):
    t, c = time.perf_counter(), time.process_time()
    train_steps(a.steps)
    rates.append(a.steps * a.train_batch / (time.perf_counter() - t))
    cpus.append((time.process_time() - c) / a.steps * 1e3)
train, train_cpu = statistics.median(rates), statistics.median(cpus)

xi = torch.rand(a.infer_batch, 1, 28, 28)
net.eval()
with torch.no_grad():
    for _ in range(3):
        torch.softmax(net(xi), 1)
    rates, cpus = [], []
    for _ in range(a.repeats):
        t, c = time.perf_counter(), time.process_time()
        for _ in range(a.steps):
            torch.softmax(net(xi), 1)
        rates.append(a.steps * a.infer_batch / (time.perf_counter() - t))
        cpus.append((time.process_time() - c) / a.steps * 1e3)
infer, infer_cpu = statistics.median(rates), statistics.median(cpus)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peer": "pytorch " + torch.__version__, "threads": a.threads,
                  "train_images_per_s": round(train), "infer_images_per_s": round(infer),
                  "train_cpu_ms_per_step": round(train_cpu, 2), "infer_cpu_ms_per_batch": round(infer_cpu, 2),
                  "peak_rss_mb": round(rss)}))
