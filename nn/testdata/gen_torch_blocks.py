#!/usr/bin/python3
"""Writes torch_blocks.json.gz: PyTorch references for whole blocks of modern
CNNs, for the end-to-end tests of the graph engine (graph_blocks_test.go):

  resnet_basic   ResNet basic block, stride 2, 1x1 projection shortcut
  mbv2_inverted  MobileNetV2 inverted residual (expand 3, depthwise 3x3, ReLU6,
                 project, identity shortcut)
  squeeze_excite squeeze-and-excitation: global pool, FC, ReLU, FC, sigmoid,
                 channel-wise scale

Each block runs in training mode (batch-norm with batch statistics) on a
float32 input; the loss is sum(y * r) for a fixed random r. The file holds
the input, every parameter (in dlcv's layouts, named as the Go test names
its nodes), the output, and the gradient of the loss with respect to the
input and to every parameter, computed in float64.

Run from this directory with /usr/bin/python3 (torch 1.13 CPU):

    /usr/bin/python3 gen_torch_blocks.py

Layouts: images NCHW -> NHWC; conv weight (F, Cin/groups, KH, KW) ->
(KH, KW, Cin/groups, F); depthwise weight (C*M, 1, KH, KW) -> (KH, KW, C, M);
linear weight (out, in) -> (in, out).
"""
import gzip
import json

import torch
import torch.nn as tnn

torch.manual_seed(20261201)
EPS = 1e-3  # Keras' batch-norm epsilon, dlcv's default


def flat(t):
    # Shortest decimal that round-trips the float32 value.
    return [float(str(v)) for v in t.detach().float().reshape(-1).numpy()]


def conv_w(w):
    return w.permute(2, 3, 1, 0)


def dw_w(w, c, m):
    # (C*M, 1, KH, KW) -> (KH, KW, C, M)
    kh, kw = w.shape[2], w.shape[3]
    return w.reshape(c, m, kh, kw).permute(2, 3, 0, 1)


def bn(c):
    b = tnn.BatchNorm2d(c, eps=EPS)
    with torch.no_grad():
        b.weight.uniform_(0.5, 1.5)
        b.bias.uniform_(-0.5, 0.5)
    return b


def randomize(mod):
    with torch.no_grad():
        for p in mod.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape) * (2.0 / p[0].numel()) ** 0.5)
            elif p.dim() == 1 and not isinstance(mod, tnn.BatchNorm2d):
                p.uniform_(-0.3, 0.3)


class Basic(tnn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn(cout)
        self.proj = tnn.Conv2d(cin, cout, 1, stride, 0, bias=False)
        self.bnp = bn(cout)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return torch.relu(h + self.bnp(self.proj(x)))

    def params(self):
        return {
            "conv1.kernel": conv_w(self.conv1.weight), "bn1.gamma": self.bn1.weight, "bn1.beta": self.bn1.bias,
            "conv2.kernel": conv_w(self.conv2.weight), "bn2.gamma": self.bn2.weight, "bn2.beta": self.bn2.bias,
            "proj.kernel": conv_w(self.proj.weight), "bnp.gamma": self.bnp.weight, "bnp.beta": self.bnp.bias,
        }


class Inverted(tnn.Module):
    def __init__(self, c, t):
        super().__init__()
        e = c * t
        self.e = e
        self.expand = tnn.Conv2d(c, e, 1, bias=False)
        self.bn1 = bn(e)
        self.dw = tnn.Conv2d(e, e, 3, 1, 1, groups=e, bias=False)
        self.bn2 = bn(e)
        self.project = tnn.Conv2d(e, c, 1, bias=False)
        self.bn3 = bn(c)

    def forward(self, x):
        h = torch.clamp(self.bn1(self.expand(x)), 0, 6)
        h = torch.clamp(self.bn2(self.dw(h)), 0, 6)
        return x + self.bn3(self.project(h))

    def params(self):
        return {
            "expand.kernel": conv_w(self.expand.weight), "bn1.gamma": self.bn1.weight, "bn1.beta": self.bn1.bias,
            "dw.kernel": dw_w(self.dw.weight, self.e, 1), "bn2.gamma": self.bn2.weight, "bn2.beta": self.bn2.bias,
            "project.kernel": conv_w(self.project.weight), "bn3.gamma": self.bn3.weight, "bn3.beta": self.bn3.bias,
        }


class SE(tnn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.fc1 = tnn.Linear(c, c // r)
        self.fc2 = tnn.Linear(c // r, c)

    def forward(self, x):
        s = x.mean(dim=(2, 3))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))
        return x * s[:, :, None, None]

    def params(self):
        return {
            "fc1.kernel": self.fc1.weight.t(), "fc1.bias": self.fc1.bias,
            "fc2.kernel": self.fc2.weight.t(), "fc2.bias": self.fc2.bias,
        }


def case(name, mod, shape):
    randomize(mod)
    mod = mod.double().train()
    x = torch.randn(*shape, dtype=torch.float32).double().requires_grad_(True)
    y = mod(x)
    r = torch.randn(y.shape, dtype=torch.float32).double()
    (y * r).sum().backward()
    ps = mod.params()
    # The gradient of each named tensor, in the same layout.
    grads = {}
    for k, v in ps.items():
        leaf = None
        for p in mod.parameters():
            if v.data_ptr() == p.data_ptr() or (v._base is not None and v._base.data_ptr() == p.data_ptr()):
                leaf = p
        g = leaf.grad
        if k.endswith(".kernel") and g.dim() == 4 and "dw" in k:
            g = dw_w(g, g.shape[0], 1)
        elif k.endswith(".kernel") and g.dim() == 4:
            g = conv_w(g)
        elif k.endswith(".kernel") and g.dim() == 2:
            g = g.t()
        grads[k] = flat(g)
    return {
        "name": name,
        "x_shape": list(x.permute(0, 2, 3, 1).shape), "x": flat(x.permute(0, 2, 3, 1)),
        "params": {k: {"shape": list(v.shape), "value": flat(v)} for k, v in ps.items()},
        "y_shape": list(y.permute(0, 2, 3, 1).shape), "y": flat(y.permute(0, 2, 3, 1)),
        "r": flat(r.permute(0, 2, 3, 1)),
        "dx": flat(x.grad.permute(0, 2, 3, 1)),
        "grads": grads,
    }


cases = [
    case("resnet_basic", Basic(6, 10, 2), (2, 6, 9, 9)),
    case("mbv2_inverted", Inverted(8, 3), (2, 8, 7, 7)),
    case("squeeze_excite", SE(16, 4), (2, 16, 5, 5)),
]
with gzip.open("torch_blocks.json.gz", "wt") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print("wrote torch_blocks.json.gz:", ", ".join(c["name"] for c in cases))
