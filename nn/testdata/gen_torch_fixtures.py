#!/usr/bin/python3
"""Writes torch_layers.json: PyTorch reference values for Conv2D, MaxPool2D,
AveragePool2D and Dense, forward and backward, in dlcv's layouts.

Run from this directory with /usr/bin/python3 (torch 1.13 CPU):

    /usr/bin/python3 gen_torch_fixtures.py

Inputs are float32 values; PyTorch computes in float64 so the fixture is
the exact answer to float32 inputs. Layout conversions:
images NCHW -> NHWC, conv weight OIHW -> (KH, KW, Cin, F),
linear weight (out, in) -> (in, out).
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(1234)


def f32(*shape):
    return torch.randn(*shape, dtype=torch.float32).double().requires_grad_(True)


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous()


def flat(t):
    # Shortest decimal that round-trips the float32 value.
    return [float(str(v)) for v in t.detach().float().reshape(-1).numpy()]


def conv_case(name, n, cin, h, w, f, kh, kw, stride, pad):
    """pad is (top, bottom, left, right)."""
    x, wt, b = f32(n, cin, h, w), f32(f, cin, kh, kw), f32(f)
    xp = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
    y = F.conv2d(xp, wt, b, stride=stride)
    dy = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(dy)
    return {
        "name": name, "kind": "conv2d",
        "filters": f, "kernel": [kh, kw], "stride": list(stride), "pad": list(pad),
        "x_shape": list(nhwc(x).shape), "x": flat(nhwc(x)),
        "w": flat(wt.detach().permute(2, 3, 1, 0)), "b": flat(b),
        "y_shape": list(nhwc(y).shape), "y": flat(nhwc(y)),
        "dy": flat(nhwc(dy)), "dx": flat(nhwc(x.grad)),
        "dw": flat(wt.grad.permute(2, 3, 1, 0)), "db": flat(b.grad),
    }


def pool_case(name, kind, n, c, h, w, k, stride):
    x = f32(n, c, h, w)
    pool = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
    y = pool(x, k, stride)
    dy = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(dy)
    return {
        "name": name, "kind": kind, "kernel": [k, k], "stride": [stride, stride],
        "x_shape": list(nhwc(x).shape), "x": flat(nhwc(x)),
        "y_shape": list(nhwc(y).shape), "y": flat(nhwc(y)),
        "dy": flat(nhwc(dy)), "dx": flat(nhwc(x.grad)),
    }


def dense_case(name, n, fin, fout):
    x, wt, b = f32(n, fin), f32(fout, fin), f32(fout)
    y = F.linear(x, wt, b)
    dy = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(dy)
    return {
        "name": name, "kind": "dense", "units": fout,
        "x_shape": list(x.shape), "x": flat(x),
        "w": flat(wt.detach().t()), "b": flat(b),
        "y_shape": list(y.shape), "y": flat(y),
        "dy": flat(dy), "dx": flat(x.grad), "dw": flat(wt.grad.t()), "db": flat(b.grad),
    }


cases = [
    conv_case("conv 3x3 s1 pad1", 2, 3, 7, 5, 4, 3, 3, (1, 1), (1, 1, 1, 1)),
    conv_case("conv 3x3 s2 pad1", 2, 3, 7, 5, 4, 3, 3, (2, 2), (1, 1, 1, 1)),
    conv_case("conv 5x5 s2 valid", 1, 2, 9, 8, 3, 5, 5, (2, 2), (0, 0, 0, 0)),
    conv_case("conv 4x4 s2 asym pad", 2, 2, 8, 6, 3, 4, 4, (2, 2), (1, 2, 1, 2)),
    conv_case("conv 2x3 s(1,2) pad(0,1,1,0)", 1, 3, 6, 7, 2, 2, 3, (1, 2), (0, 1, 1, 0)),
    conv_case("conv 1x1", 2, 4, 3, 5, 3, 1, 1, (1, 1), (0, 0, 0, 0)),
    pool_case("maxpool 2 s2 odd", "maxpool", 2, 3, 7, 5, 2, 2),
    pool_case("maxpool 3 s2", "maxpool", 1, 2, 9, 9, 3, 2),
    pool_case("avgpool 2 s2 odd", "avgpool", 2, 3, 7, 5, 2, 2),
    pool_case("avgpool 3 s1", "avgpool", 1, 2, 6, 5, 3, 1),
    dense_case("dense 7->5", 3, 7, 5),
]

with open("torch_layers.json", "w") as fp:
    json.dump({"generator": "gen_torch_fixtures.py", "torch": torch.__version__, "cases": cases}, fp)
    fp.write("\n")
