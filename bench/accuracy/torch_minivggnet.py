"""PyTorch CPU run of the MiniVGGNet animals recipe, for the per-epoch
curves in docs/accuracy.md (batch-norm running statistics): the same
network as dlcv's zoo minivggnet ((CONV 32 3x3, ReLU, BN) x2, POOL, dropout
0.25; the same with 64; FC 512 ReLU BN dropout 0.5; FC softmax), Glorot
uniform weights and zero biases as Keras and dlcv initialise, BN epsilon
1e-3, SGD lr 0.01 Nesterov momentum 0.9, batch 128, on 32x32 RGB
(bilinear resize, OpenCV), 25% stratified test split, 10% of the rest for
validation.

Usage: torch_minivggnet.py ANIMALS_DIR [--epochs 40] [--bn-momentum 0.1]
       [--threads 2] [--seed 42]
--bn-momentum is PyTorch's (running = (1-m)*running + m*batch): 0.1 is its
default, 0.01 is Keras' 0.99. Prints one line per epoch and a JSON
summary.
"""
import argparse
import json
import os
import time

import cv2
import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("animals_dir")
p.add_argument("--epochs", type=int, default=40)
p.add_argument("--bn-momentum", type=float, default=0.1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=42)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)

classes = sorted(d for d in os.listdir(a.animals_dir) if os.path.isdir(os.path.join(a.animals_dir, d)))
xs, ys = [], []
for ci, c in enumerate(classes):
    for f in sorted(os.listdir(os.path.join(a.animals_dir, c))):
        img = cv2.imread(os.path.join(a.animals_dir, c, f), cv2.IMREAD_COLOR)
        if img is None:
            continue
        img = cv2.resize(img, (32, 32), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
        xs.append(img.astype(np.float32) / 255)
        ys.append(ci)
x = np.stack(xs).transpose(0, 3, 1, 2).copy()
y = np.array(ys, np.int64)
rng = np.random.default_rng(a.seed)


def split(idx, frac):
    """Stratified: frac of each class of idx to the second part."""
    held = []
    for c in range(len(classes)):
        i = idx[y[idx] == c].copy()
        rng.shuffle(i)
        held.extend(i[:int(len(i) * frac + 0.5)])
    held = np.array(sorted(held))
    return np.setdiff1d(idx, held), held


rest, test = split(np.arange(len(y)), 0.25)
tr, val = split(rest, 0.1)
t = lambda i: (torch.from_numpy(x[i]), torch.from_numpy(y[i]))
(xtr, ytr), (xval, yval), (xte, yte) = t(tr), t(val), t(test)


def bn(c, d2=True):
    return (nn.BatchNorm2d if d2 else nn.BatchNorm1d)(c, eps=1e-3, momentum=a.bn_momentum)


net = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), bn(32), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), bn(32),
    nn.MaxPool2d(2), nn.Dropout(0.25),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), bn(64), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), bn(64),
    nn.MaxPool2d(2), nn.Dropout(0.25),
    nn.Flatten(), nn.Linear(64 * 8 * 8, 512), nn.ReLU(), bn(512, False), nn.Dropout(0.5),
    nn.Linear(512, len(classes)))
for m in net.modules():
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True)
loss_fn = nn.CrossEntropyLoss()


def evaluate(xe, ye):
    net.eval()
    with torch.no_grad():
        out = torch.cat([net(xe[s:s + 256]) for s in range(0, len(ye), 256)])
    net.train()
    return loss_fn(out, ye).item(), (out.argmax(1) == ye).float().mean().item()


curve = []
t0 = time.perf_counter()
for epoch in range(1, a.epochs + 1):
    perm = torch.randperm(len(ytr))
    tot, correct = 0.0, 0
    for s in range(0, len(ytr), 128):
        b = perm[s:s + 128]
        opt.zero_grad()
        out = net(xtr[b])
        loss = loss_fn(out, ytr[b])
        loss.backward()
        opt.step()
        tot += loss.item() * len(b)
        correct += (out.argmax(1) == ytr[b]).sum().item()
    vl, va = evaluate(xval, yval)
    curve.append({"epoch": epoch, "loss": tot / len(ytr), "accuracy": correct / len(ytr), "val_loss": vl, "val_accuracy": va})
    print(f"Epoch {epoch}/{a.epochs} - loss: {tot / len(ytr):.4f} - accuracy: {correct / len(ytr):.4f} - val_loss: {vl:.4f} - val_accuracy: {va:.4f}", flush=True)
train_s = time.perf_counter() - t0
tl, ta = evaluate(xte, yte)
print(json.dumps({"bn_momentum": a.bn_momentum, "train": len(tr), "val": len(val), "test": len(test),
                  "test_accuracy": ta, "train_seconds": train_s, "curve": curve}))
