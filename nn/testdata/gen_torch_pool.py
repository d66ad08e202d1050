#!/usr/bin/python3
"""Writes torch_pool.json.gz: PyTorch reference values for MaxPool2D,
AveragePool2D, GlobalAveragePool and GlobalMaxPool, forward and backward,
in dlcv's layouts (NHWC).

Run from this directory with /usr/bin/python3 (torch 1.13 CPU):

    /usr/bin/python3 gen_torch_pool.py

Inputs are float32 values; PyTorch computes in float64 so the fixture is
the exact answer to float32 inputs. Each case holds the op's dlcv kind and
JSON config, so the Go test builds the op the way a model file does.

PyTorch pads symmetrically and counts padding into averages by default
(count_include_pad=True). The TensorFlow conventions dlcv also supports
(asymmetric "same" padding, averages over the pixels inside the image)
are computed here from F.pad with -inf (max) or zeros and a ones mask
(average), so they are still PyTorch's arithmetic and autograd.
"""
import gzip
import json
import math

import torch
import torch.nn.functional as F

torch.manual_seed(4321)


def f32(*shape):
    return torch.randn(*shape, dtype=torch.float32).double().requires_grad_(True)


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous()


def flat(t):
    # Shortest decimal that round-trips the float32 value.
    return [float(str(v)) for v in t.detach().float().reshape(-1).numpy()]


def tensor_json(t):
    return {"shape": list(t.shape), "data": flat(t)}


def case(name, kind, config, x, y, dy):
    """x, y, dy are NCHW (or (N, C) for y, dy); x.grad is filled."""
    def conv(t):
        return nhwc(t) if t.dim() == 4 else t.detach()
    return {
        "name": name, "kind": kind, "config": config,
        "inputs": [tensor_json(conv(x))],
        "outputs": [tensor_json(conv(y))],
        "douts": [tensor_json(conv(dy))],
        "dins": [tensor_json(conv(x.grad))],
    }


def run(fn, x):
    y = fn(x)
    dy = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(dy)
    return y, dy


def same_pads(size, k, s):
    """TensorFlow's "same": (before, after) with the extra pixel after."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def torch_pool(name, kind, n, c, h, w, k, s, pad=0, ceil=False, incl=True):
    """A PyTorch pool with symmetric padding pad."""
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    x = f32(n, c, h, w)
    if kind == "MaxPool2D":
        y, dy = run(lambda t: F.max_pool2d(t, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil), x)
    else:
        y, dy = run(lambda t: F.avg_pool2d(t, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil, count_include_pad=incl), x)
    cfg = {"pool_h": kh, "pool_w": kw, "stride_h": sh, "stride_w": sw}
    if ph or pw:
        cfg["padding"] = {"mode": "explicit", "top": ph, "bottom": ph, "left": pw, "right": pw}
    if ceil:
        cfg["ceil_mode"] = True
    if kind == "AveragePool2D" and incl and (ph or pw or ceil):
        cfg["count_include_pad"] = True
    return case(name, kind, cfg, x, y, dy)


def padded_pool(name, kind, n, c, h, w, k, s, pads, padding_cfg):
    """A pool over explicitly padded input: pads (top, bottom, left, right);
    max pads with -inf, average divides by the pixels inside the image."""
    kh, kw = k
    sh, sw = s
    t, b, l, r = pads
    x = f32(n, c, h, w)

    def fn(v):
        if kind == "MaxPool2D":
            return F.max_pool2d(F.pad(v, (l, r, t, b), value=-math.inf), (kh, kw), (sh, sw))
        total = F.avg_pool2d(F.pad(v, (l, r, t, b)), (kh, kw), (sh, sw)) * (kh * kw)
        ones = torch.ones(1, 1, h, w, dtype=torch.float64)
        count = F.avg_pool2d(F.pad(ones, (l, r, t, b)), (kh, kw), (sh, sw)) * (kh * kw)
        return total / count

    y, dy = run(fn, x)
    cfg = {"pool_h": kh, "pool_w": kw, "stride_h": sh, "stride_w": sw, "padding": padding_cfg}
    return case(name, kind, cfg, x, y, dy)


def same_pool(name, kind, n, c, h, w, k, s):
    t, b = same_pads(h, k, s)
    l, r = same_pads(w, k, s)
    return padded_pool(name, kind, n, c, h, w, (k, k), (s, s), (t, b, l, r), {"mode": "same"})


def global_pool(name, kind, n, c, h, w, keep):
    x = f32(n, c, h, w)
    if kind == "GlobalAveragePool":
        fn = lambda t: F.adaptive_avg_pool2d(t, 1)
    else:
        fn = lambda t: F.adaptive_max_pool2d(t, 1)
    y, dy = run(fn, x)
    if not keep:
        y, dy = y.reshape(n, c), dy.reshape(n, c)
    cfg = {"keep_dims": True} if keep else {}
    return case(name, kind, cfg, x, y, dy)


cases = [
    # The pool cases of the old torch_layers.json.
    torch_pool("maxpool 2 s2 odd", "MaxPool2D", 2, 3, 7, 5, 2, 2),
    torch_pool("maxpool 3 s2", "MaxPool2D", 1, 2, 9, 9, 3, 2),
    torch_pool("avgpool 2 s2 odd", "AveragePool2D", 2, 3, 7, 5, 2, 2),
    torch_pool("avgpool 3 s1", "AveragePool2D", 1, 2, 6, 5, 3, 1),
    # Padding and ceil mode.
    torch_pool("maxpool 3 s2 pad1", "MaxPool2D", 2, 3, 8, 7, 3, 2, pad=1),
    torch_pool("maxpool 3 s2 pad1 ceil", "MaxPool2D", 2, 3, 8, 6, 3, 2, pad=1, ceil=True),
    torch_pool("maxpool 2 s2 ceil odd", "MaxPool2D", 2, 9, 7, 5, 2, 2, ceil=True),
    torch_pool("maxpool 2x3 s(1,2) pad(1,1)", "MaxPool2D", 1, 2, 6, 7, (2, 3), (1, 2), pad=(1, 1)),
    torch_pool("avgpool 3 s2 pad1 include", "AveragePool2D", 2, 3, 7, 6, 3, 2, pad=1),
    torch_pool("avgpool 3 s2 pad1 exclude", "AveragePool2D", 2, 3, 7, 6, 3, 2, pad=1, incl=False),
    torch_pool("avgpool 3 s2 pad1 ceil include", "AveragePool2D", 1, 4, 8, 6, 3, 2, pad=1, ceil=True),
    torch_pool("avgpool 3 s2 pad1 ceil exclude", "AveragePool2D", 1, 4, 8, 6, 3, 2, pad=1, ceil=True, incl=False),
    torch_pool("avgpool 2 s2 ceil odd", "AveragePool2D", 2, 3, 5, 7, 2, 2, ceil=True),
    # TensorFlow's "same" (asymmetric) and other explicit asymmetric pads.
    same_pool("maxpool 2 s2 same odd", "MaxPool2D", 2, 9, 7, 5, 2, 2),
    same_pool("maxpool 3 s2 same", "MaxPool2D", 2, 3, 8, 7, 3, 2),
    same_pool("avgpool 3 s2 same", "AveragePool2D", 2, 3, 8, 7, 3, 2),
    same_pool("avgpool 3 s1 same", "AveragePool2D", 1, 2, 5, 6, 3, 1),
    padded_pool("maxpool 3x2 s(2,1) pad(2,0,1,1)", "MaxPool2D", 2, 3, 7, 5, (3, 2), (2, 1), (2, 0, 1, 1),
                {"mode": "explicit", "top": 2, "bottom": 0, "left": 1, "right": 1}),
    padded_pool("avgpool 3 s2 pad(0,1,2,1) exclude", "AveragePool2D", 2, 2, 6, 7, (3, 3), (2, 2), (0, 1, 2, 1),
                {"mode": "explicit", "top": 0, "bottom": 1, "left": 2, "right": 1}),
    # Global pools.
    global_pool("global avg", "GlobalAveragePool", 3, 5, 4, 3, False),
    global_pool("global avg keepdims", "GlobalAveragePool", 2, 4, 3, 5, True),
    global_pool("global max", "GlobalMaxPool", 3, 5, 4, 3, False),
    global_pool("global max keepdims", "GlobalMaxPool", 2, 4, 3, 5, True),
]

# mtime=0: the same cases give the same bytes.
with open("torch_pool.json.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fp:
    fp.write(json.dumps({"generator": "gen_torch_pool.py", "torch": torch.__version__, "cases": cases}).encode())
    fp.write(b"\n")
