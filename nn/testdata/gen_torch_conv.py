#!/usr/bin/python3
"""Writes torch_conv.json.gz: PyTorch reference values for the convolution
family (Conv2D with groups and dilation, depthwise convolutions, transposed
convolutions, a fused residual and activation), forward and backward, in
dlcv's layouts.

Run from this directory with /usr/bin/python3 (torch 1.13 CPU):

    /usr/bin/python3 gen_torch_conv.py

Inputs are float32 values; PyTorch computes in float64 so the fixture is
the exact answer to float32 inputs. Layout conversions: images NCHW ->
NHWC; conv weight (F, Cin/G, KH, KW) -> (KH, KW, Cin/G, F); transposed
conv weight (Cin, Cout/G, KH, KW) -> (KH, KW, Cout/G, Cin). Asymmetric
padding and TensorFlow's "same" rule, which PyTorch's functions do not
take, are applied by padding the input (convolution) or cropping the
output (transposed convolution).
"""
import gzip
import json

import torch
import torch.nn.functional as F

torch.manual_seed(2024)


def f32(*shape):
    return torch.randn(*shape, dtype=torch.float32).double().requires_grad_(True)


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous()


def flat(t):
    # Shortest decimal that round-trips the float32 value.
    return [float(str(v)) for v in t.detach().float().reshape(-1).numpy()]


def same_pad(n, k, s, d):
    """TensorFlow's "same" padding (before, after) for a convolution."""
    ke = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + ke - n, 0)
    return total // 2, total - total // 2


def conv_case(name, n, cin, h, w, f, kh, kw, stride=(1, 1), pad=(0, 0, 0, 0),
              dil=(1, 1), groups=1, mode="explicit", act="", residual=False,
              depthwise=False):
    """pad is (top, bottom, left, right); mode "same" computes it."""
    if mode == "same":
        pad = same_pad(h, kh, stride[0], dil[0]) + same_pad(w, kw, stride[1], dil[1])
    x, wt, b = f32(n, cin, h, w), f32(f, cin // groups, kh, kw), f32(f)
    xp = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
    z = F.conv2d(xp, wt, b, stride=stride, dilation=dil, groups=groups)
    r = None
    if residual:
        r = f32(*z.shape)
        z = z + r
    y = F.relu(z) if act == "relu" else z
    dy = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(dy)
    c = {
        "name": name, "kind": "depthwise" if depthwise else "conv2d",
        "filters": f, "kernel": [kh, kw], "stride": list(stride), "dilation": list(dil),
        "groups": groups, "mode": mode, "pad": list(pad), "act": act,
        "x_shape": list(nhwc(x).shape), "x": flat(nhwc(x)),
        "w": flat(wt.detach().permute(2, 3, 1, 0)), "b": flat(b),
        "y_shape": list(nhwc(y).shape), "y": flat(nhwc(y)),
        "dy": flat(nhwc(dy)), "dx": flat(nhwc(x.grad)),
        "dw": flat(wt.grad.permute(2, 3, 1, 0)), "db": flat(b.grad),
    }
    if residual:
        c["r"], c["dr"] = flat(nhwc(r)), flat(nhwc(r.grad))
    return c


def conv_transpose_case(name, n, cin, h, w, f, kh, kw, stride=(1, 1), pad=(0, 0, 0, 0),
                        outpad=(0, 0), dil=(1, 1), groups=1, mode="explicit"):
    """pad is (top, bottom, left, right), cropped from the output."""
    x, wt, b = f32(n, cin, h, w), f32(cin, f // groups, kh, kw), f32(f)
    if mode == "same":
        # Keras: the output is in*stride; TensorFlow splits the cropping
        # of the full output with the odd pixel at the end.
        pad, outpad = [], []
        for size, k, s, d in ((h, kh, stride[0], dil[0]), (w, kw, stride[1], dil[1])):
            ke = (k - 1) * d + 1
            full, want = (size - 1) * s + ke, size * s
            total = max(full - want, 0)
            pad += [total // 2, total - total // 2]
            outpad.append(max(want - full, 0))
    y = F.conv_transpose2d(x, wt, b, stride=stride, output_padding=tuple(outpad),
                           dilation=dil, groups=groups)
    oh, ow = y.shape[2] - pad[0] - pad[1], y.shape[3] - pad[2] - pad[3]
    y = y[:, :, pad[0]:pad[0] + oh, pad[2]:pad[2] + ow]
    dy = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(dy)
    return {
        "name": name, "kind": "conv_transpose",
        "filters": f, "kernel": [kh, kw], "stride": list(stride), "dilation": list(dil),
        "groups": groups, "mode": mode, "pad": list(pad), "output_padding": list(outpad),
        "x_shape": list(nhwc(x).shape), "x": flat(nhwc(x)),
        "w": flat(wt.detach().permute(2, 3, 1, 0)), "b": flat(b),
        "y_shape": list(nhwc(y).shape), "y": flat(nhwc(y)),
        "dy": flat(nhwc(dy)), "dx": flat(nhwc(x.grad)),
        "dw": flat(wt.grad.permute(2, 3, 1, 0)), "db": flat(b.grad),
    }


cases = [
    conv_case("conv 3x3 s1 pad1", 1, 3, 7, 5, 4, 3, 3, pad=(1, 1, 1, 1)),
    conv_case("conv 3x3 s2 pad1", 2, 3, 7, 5, 4, 3, 3, (2, 2), (1, 1, 1, 1)),
    conv_case("conv 5x5 s2 valid", 1, 2, 9, 8, 3, 5, 5, (2, 2)),
    conv_case("conv 4x4 s2 asym pad", 2, 2, 8, 6, 3, 4, 4, (2, 2), (1, 2, 1, 2)),
    conv_case("conv 2x3 s(1,2) pad(0,1,1,0)", 1, 3, 6, 7, 2, 2, 3, (1, 2), (0, 1, 1, 0)),
    conv_case("conv 1x1", 2, 4, 3, 5, 3, 1, 1),
    conv_case("conv 5x5 one channel same", 1, 1, 8, 9, 4, 5, 5, mode="same"),
    conv_case("conv 3x3 s2 same (TF split)", 1, 3, 8, 7, 4, 3, 3, (2, 2), mode="same"),
    conv_case("conv dilation 2 same", 1, 2, 7, 6, 3, 3, 3, dil=(2, 2), mode="same"),
    conv_case("conv dilation (2,3) s(2,1) asym", 1, 2, 9, 8, 3, 3, 2, (2, 1), (2, 1, 0, 3), dil=(2, 3)),
    conv_case("conv groups 2", 1, 4, 5, 6, 6, 3, 3, pad=(1, 1, 1, 1), groups=2),
    conv_case("conv groups 3 s2 dilation 2", 1, 6, 9, 7, 6, 3, 3, (2, 2), (1, 1, 1, 1), dil=(2, 2), groups=3),
    conv_case("conv groups=cin (depthwise as ONNX)", 1, 5, 7, 6, 5, 3, 3, (2, 2), mode="same", groups=5),
    conv_case("conv groups=cin mult 2", 1, 3, 5, 6, 6, 3, 3, pad=(1, 1, 1, 1), groups=3),
    conv_case("conv residual relu", 1, 3, 6, 5, 4, 3, 3, pad=(1, 1, 1, 1), act="relu", residual=True),
    conv_case("depthwise 3x3 s1 same", 1, 6, 6, 5, 6, 3, 3, mode="same", groups=6, depthwise=True),
    conv_case("depthwise 3x3 s2 same", 1, 4, 7, 7, 4, 3, 3, (2, 2), mode="same", groups=4, depthwise=True),
    conv_case("depthwise mult 2 dilation 2", 1, 3, 6, 7, 6, 3, 3, pad=(2, 2, 2, 2), dil=(2, 2), groups=3, depthwise=True),
    conv_case("depthwise 5x3 s(1,2) asym relu", 1, 4, 8, 9, 4, 5, 3, (1, 2), (2, 1, 0, 2), groups=4, act="relu", depthwise=True),
    conv_transpose_case("transposed 3x3 s1", 1, 3, 5, 4, 4, 3, 3),
    conv_transpose_case("transposed 3x3 s2 pad1 output padding 1", 1, 3, 4, 5, 2, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1)),
    conv_transpose_case("transposed 4x4 s2 pad1", 1, 4, 3, 4, 3, 4, 4, (2, 2), (1, 1, 1, 1)),
    conv_transpose_case("transposed 2x3 s(2,3) asym output padding (1,2)", 1, 2, 3, 4, 3, 2, 3, (2, 3), (1, 0, 0, 2), (1, 2)),
    conv_transpose_case("transposed dilation 2 s2 output padding 1", 1, 2, 4, 3, 3, 3, 3, (2, 2), (2, 2, 2, 2), (1, 0), (2, 2)),
    conv_transpose_case("transposed groups 2", 1, 6, 3, 4, 4, 3, 3, (2, 2), (1, 1, 1, 1), groups=2),
    conv_transpose_case("transposed 3x3 s2 same", 1, 2, 3, 4, 3, 3, 3, (2, 2), mode="same"),
    conv_transpose_case("transposed 2x2 s3 same (kernel below stride)", 1, 2, 3, 2, 2, 2, 2, (3, 3), mode="same"),
    conv_transpose_case("transposed 1x1", 2, 4, 3, 5, 3, 1, 1),
    # 3x3 stride-1 convolutions with enough channels for Winograd F(2x2,
    # 3x3) (nn/conv_winograd.go), forward and input gradient; odd sizes
    # leave ragged tiles. (Appended, so the cases above keep their values.)
    conv_case("winograd 3x3 pad1 16->16 odd", 2, 16, 9, 7, 16, 3, 3, pad=(1, 1, 1, 1)),
    conv_case("winograd 3x3 valid 12->16", 1, 12, 7, 8, 16, 3, 3),
    conv_case("winograd 3x3 asym pad 24->8 residual relu", 2, 24, 6, 5, 8, 3, 3, pad=(0, 1, 1, 2), act="relu", residual=True),
    conv_case("winograd 3x3 same 32->20", 1, 32, 6, 8, 20, 3, 3, mode="same"),
]

with gzip.open("torch_conv.json.gz", "wt") as fp:
    json.dump({"generator": "gen_torch_conv.py", "torch": torch.__version__, "cases": cases}, fp)
    fp.write("\n")
