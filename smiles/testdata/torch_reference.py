"""PyTorch reference for the smile detection case study.

Trains the same network as `dlcv smiles train` (LeNet with a configurable
hidden dense layer) on SMILEsmileD with the same recipe: 64x64 gray faces
shrunk to 28x28 with cv2.INTER_AREA, scaled to [0,1], a stratified 80/20
split, balanced class weights from the training split, Adam, batch 64.
It prints the validation accuracy after each epoch, the classification
report and the training speed, so that dlcv's numbers can be compared
with a mainstream implementation (the split differs: sklearn's
train_test_split instead of dlcv's PCG shuffle, same proportions).

Usage: /usr/bin/python3 smiles/testdata/torch_reference.py SMILEsmileD_DIR
       [--dense 64] [--epochs 15] [--seed 42] [--threads 2]
"""
import argparse
import glob
import os
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight


def load(root):
    smiles = os.path.join(root, "SMILEs") if os.path.isdir(os.path.join(root, "SMILEs")) else root
    xs, ys = [], []
    for label, sub in enumerate(["negatives/negatives7", "positives/positives7"]):
        for p in sorted(glob.glob(os.path.join(smiles, sub, "*.jpg"))):
            g = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
            xs.append(cv2.resize(g, (28, 28), interpolation=cv2.INTER_AREA))
            ys.append(label)
    x = np.stack(xs).astype(np.float32)[:, None] / 255.0
    return x, np.array(ys)


def lenet(dense):
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(50 * 7 * 7, dense), nn.ReLU(), nn.Linear(dense, 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--dense", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load(a.root)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=a.seed)
    w = compute_class_weight("balanced", classes=np.array([0, 1]), y=ytr)
    print(f"train {len(ytr)} test {len(yte)} class weights {w.round(3)}")
    net = lenet(a.dense)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    # Keras-style weighting: mean over the batch of weight * loss.
    sw = torch.tensor(w, dtype=torch.float32)
    xtr_t, ytr_t, xte_t = torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte)
    g = torch.Generator().manual_seed(a.seed)
    seen, t0 = 0, time.perf_counter()
    for ep in range(a.epochs):
        net.train()
        perm = torch.randperm(len(ytr_t), generator=g)
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            out = net(xtr_t[idx])
            loss = (nn.functional.cross_entropy(out, ytr_t[idx], reduction="none") * sw[ytr_t[idx]]).mean()
            loss.backward()
            opt.step()
            seen += len(idx)
        net.eval()
        with torch.no_grad():
            pred = net(xte_t).argmax(1).numpy()
        print(f"epoch {ep + 1}: val_accuracy {(pred == yte).mean():.4f}", flush=True)
    dt = time.perf_counter() - t0
    print(classification_report(yte, pred, target_names=["not_smiling", "smiling"], digits=4))
    print(f"training speed: {seen / dt:.0f} img/s ({a.threads} threads, including evaluation)")


if __name__ == "__main__":
    main()
