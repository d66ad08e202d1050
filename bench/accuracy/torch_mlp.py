"""PyTorch CPU run of the classic MLP recipe, for the wall-time comparison
in docs/accuracy.md: 784-256-128-10 sigmoid, SGD lr 0.01, batch 128, on
the 75/25 split of all 70,000 MNIST digits.

Usage: torch_mlp.py MNIST_DIR [--epochs 100] [--threads 2]
MNIST_DIR holds the four gzipped IDX files (bench/accuracy/run.sh passes
the GoMNIST module's data folder).
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("mnist_dir")
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=42)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


def idx(name):
    with gzip.open(os.path.join(a.mnist_dir, name)) as f:
        b = f.read()
    dims = b[3]
    shape = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


x = np.concatenate([idx("train-images-idx3-ubyte.gz"), idx("t10k-images-idx3-ubyte.gz")]).reshape(-1, 784).astype(np.float32) / 255
y = np.concatenate([idx("train-labels-idx1-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")]).astype(np.int64)
rng = np.random.default_rng(a.seed)
test = np.zeros(len(y), bool)
for c in range(10):  # stratified 25% test split
    i = np.flatnonzero(y == c)
    rng.shuffle(i)
    test[i[:int(len(i) * 0.25 + 0.5)]] = True
xtr, ytr = torch.from_numpy(x[~test]), torch.from_numpy(y[~test])
xte, yte = torch.from_numpy(x[test]), torch.from_numpy(y[test])

net = nn.Sequential(nn.Linear(784, 256), nn.Sigmoid(), nn.Linear(256, 128), nn.Sigmoid(), nn.Linear(128, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
t0 = time.perf_counter()
for epoch in range(a.epochs):
    perm = torch.randperm(len(ytr))
    for s in range(0, len(ytr), 128):
        b = perm[s:s + 128]
        opt.zero_grad()
        loss_fn(net(xtr[b]), ytr[b]).backward()
        opt.step()
train_s = time.perf_counter() - t0
with torch.no_grad():
    acc = (net(xte).argmax(1) == yte).float().mean().item()
print(json.dumps({"peer": "pytorch " + torch.__version__, "epochs": a.epochs, "train_seconds": round(train_s, 1), "test_accuracy": round(acc, 4)}))
