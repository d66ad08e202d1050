#!/usr/bin/python3
"""Writes torch_bn_losses.json: PyTorch reference values for nn's BatchNorm
and losses. Run from this directory with /usr/bin/python3 (torch 1.13 CPU).

Conventions converted to dlcv's (Keras') ones:
  * tensors are NHWC; torch's BatchNorm2d is NCHW, so inputs are permuted;
  * momentum: dlcv/Keras m = 0.9 is torch momentum 1 - m = 0.1;
  * running variance: torch feeds the unbiased batch variance into
    running_var; dlcv/Keras feed the biased one, so the expected moving
    variance is rebuilt from torch's running_var;
  * class weights: dlcv/Keras divide the weighted sum by N (torch's
    weighted mean divides by the sum of weights), so reduction='none' is
    used and the mean taken here.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(7)
KM, EPS = 0.9, 1e-3


def flat(t):
    return [round(float(v), 7) for v in t.detach().reshape(-1).tolist()]


def bn_case(shape):
    x = torch.randn(*shape) * 2 + 0.5
    c = shape[-1]
    gamma = torch.rand(c) + 0.5
    beta = torch.randn(c)
    mm0 = torch.randn(c) * 0.1
    mv0 = torch.rand(c) + 0.5
    dy = torch.randn(*shape)
    m = x.numel() // c
    out = {"shape": list(shape), "x": flat(x), "gamma": flat(gamma), "beta": flat(beta),
           "moving_mean0": flat(mm0), "moving_var0": flat(mv0), "dy": flat(dy),
           "momentum": KM, "epsilon": EPS}
    bn = torch.nn.BatchNorm2d(c, eps=EPS, momentum=1 - KM) if len(shape) == 4 else \
        torch.nn.BatchNorm1d(c, eps=EPS, momentum=1 - KM)
    for mode in ("train", "eval"):
        with torch.no_grad():
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
            bn.running_mean.copy_(mm0)
            bn.running_var.copy_(mv0)
        bn.zero_grad()
        bn.train(mode == "train")
        xt = x.clone().requires_grad_(True)
        xin = xt.permute(0, 3, 1, 2) if len(shape) == 4 else xt
        y = bn(xin)
        if len(shape) == 4:
            y = y.permute(0, 2, 3, 1)
        (y * dy).sum().backward()
        out[mode] = {"y": flat(y), "dx": flat(xt.grad), "dgamma": flat(bn.weight.grad),
                     "dbeta": flat(bn.bias.grad)}
        if mode == "train":
            # running_var = (1-KM)*unbiased + KM*mv0; rebuild the biased
            # batch variance and apply Keras' update with it.
            unbiased = (bn.running_var - KM * mv0) / (1 - KM)
            biased = unbiased * (m - 1) / m
            out[mode]["moving_mean"] = flat(bn.running_mean)
            out[mode]["moving_var"] = flat(KM * mv0 + (1 - KM) * biased)
    return out


def grad_of(f, x):
    x = x.clone().requires_grad_(True)
    v = f(x)
    v.backward()
    return float(v), flat(x.grad)


def loss_cases():
    n, c = 6, 5
    logits = torch.randn(n, c) * 2
    labels = torch.randint(0, c, (n,))
    onehot = F.one_hot(labels, c).float()
    w = torch.tensor([0.5, 2.0, 1.0, 3.0, 0.25])
    cases = {"logits": flat(logits), "onehot": flat(onehot), "n": n, "c": c, "class_weights": flat(w)}
    cases["cce_logits"] = grad_of(lambda z: F.cross_entropy(z, labels), logits)
    cases["cce_logits_weighted"] = grad_of(
        lambda z: (F.cross_entropy(z, labels, reduction="none") * w[labels]).sum() / n, logits)
    # On probabilities dlcv follows Keras: rows rescaled to sum 1, clipped.
    probs = torch.softmax(logits, 1) * 1.3  # not normalised on purpose
    cases["probs"] = flat(probs)

    def cce_probs(p):
        q = (p / p.sum(1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -(onehot * q.log()).sum(1).mean()
    cases["cce_probs"] = grad_of(cce_probs, probs)
    bshape = (4, 3)
    bp = torch.rand(*bshape) * 0.9 + 0.05
    bz = torch.randn(*bshape) * 3
    by = (torch.rand(*bshape) > 0.5).float()
    cases.update({"bce_p": flat(bp), "bce_z": flat(bz), "bce_y": flat(by), "bce_shape": list(bshape)})
    cases["bce"] = grad_of(lambda p: F.binary_cross_entropy(p, by), bp)
    cases["bce_logits"] = grad_of(lambda z: F.binary_cross_entropy_with_logits(z, by), bz)
    mp, my = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    cases.update({"mse_p": flat(mp), "mse_y": flat(my), "mse_shape": [2, 3, 4]})
    cases["mse"] = grad_of(lambda p: F.mse_loss(p, my), mp)
    return cases


fixtures = {"torch": torch.__version__, "bn4d": bn_case((2, 3, 3, 4)), "bn2d": bn_case((5, 3)),
            "losses": loss_cases()}
with open("torch_bn_losses.json", "w") as f:
    json.dump(fixtures, f, separators=(",", ":"))
