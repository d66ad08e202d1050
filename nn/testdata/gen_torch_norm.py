#!/usr/bin/python3
"""Writes torch_norm.json.gz: PyTorch reference values, forward and backward,
for nn's BatchNorm, LayerNorm, activations, Softmax, MatMul and Gemm.

Run from this directory with /usr/bin/python3 (torch 1.13 CPU):

    /usr/bin/python3 gen_torch_norm.py

Inputs are float32 values; PyTorch computes in float64, so the fixture is
the exact answer to float32 inputs (rounded to float32). Conventions
converted to dlcv's (Keras') ones:
  * images are NHWC: torch's channel-first functions (batch_norm, prelu)
    get the input permuted to NCHW and their results permuted back;
  * batch-norm momentum: dlcv/Keras m is torch momentum 1 - m;
  * running variance: torch feeds the unbiased batch variance into
    running_var, dlcv/Keras the biased one; the expected moving variance is
    rebuilt from torch's running_var;
  * LayerNorm normalises the trailing axes of the tensor as stored, so it
    needs no permutation; Softmax, MatMul and Gemm neither.
"""
import gzip
import json

import torch
import torch.nn.functional as F

torch.manual_seed(2024)


def f32(*shape, scale=1.0, shift=0.0):
    """Random float32 values, as float64 for the computation."""
    t = torch.randn(shape, dtype=torch.float32) * scale + shift
    return t.double()


def leaf(t):
    return t.clone().requires_grad_(True)


def flat(t):
    # Shortest decimal that round-trips the float32 value.
    return [float(str(v)) for v in t.detach().float().reshape(-1).numpy()]


def nchw(t):
    """NHWC-like (N, ..., C) to channel-first (N, C, ...)."""
    if t.dim() == 2:
        return t
    return t.permute(0, t.dim() - 1, *range(1, t.dim() - 1))


def nhwc(t):
    if t.dim() == 2:
        return t
    return t.permute(0, *range(2, t.dim()), 1)


def bn_case(name, shape, km, eps):
    c = shape[-1]
    x = f32(*shape, scale=2, shift=0.5)
    gamma = (torch.rand(c, dtype=torch.float32) + 0.5).double()
    beta = f32(c)
    mm0 = f32(c, scale=0.1)
    mv0 = (torch.rand(c, dtype=torch.float32) + 0.5).double()
    dy = f32(*shape)
    m = x.numel() // c
    out = {"name": name, "shape": list(shape), "momentum": km, "epsilon": eps,
           "x": flat(x), "gamma": flat(gamma), "beta": flat(beta),
           "moving_mean0": flat(mm0), "moving_var0": flat(mv0), "dy": flat(dy)}
    for mode in ("train", "eval"):
        xt, g, b = leaf(x), leaf(gamma), leaf(beta)
        rm, rv = mm0.clone(), mv0.clone()
        y = nhwc(F.batch_norm(nchw(xt), rm, rv, g, b, training=mode == "train",
                              momentum=1 - km, eps=eps))
        (y * dy).sum().backward()
        res = {"y": flat(y), "dx": flat(xt.grad), "dgamma": flat(g.grad), "dbeta": flat(b.grad)}
        if mode == "train":
            # rv = (1-km)*unbiased + km*mv0: rebuild the biased batch
            # variance and apply Keras' update with it.
            unbiased = (rv - km * mv0) / (1 - km)
            biased = unbiased * (m - 1) / m
            res["moving_mean"] = flat(rm)
            res["moving_var"] = flat(km * mv0 + (1 - km) * biased)
        out[mode] = res
    return out


def ln_case(name, shape, axes, eps):
    norm = shape[len(shape) - axes:]
    x = f32(*shape, scale=1.5, shift=-0.3)
    gamma = f32(*norm, scale=0.5, shift=1)
    beta = f32(*norm)
    dy = f32(*shape)
    xt, g, b = leaf(x), leaf(gamma), leaf(beta)
    y = F.layer_norm(xt, norm, g, b, eps)
    (y * dy).sum().backward()
    return {"name": name, "shape": list(shape), "axes": axes, "epsilon": eps,
            "x": flat(x), "gamma": flat(gamma), "beta": flat(beta), "dy": flat(dy),
            "y": flat(y), "dx": flat(xt.grad), "dgamma": flat(g.grad), "dbeta": flat(b.grad)}


# One input for the element-wise activations, with the kinks of every one
# of them (0, +-3, 6, the clip bounds, hard_sigmoid's +-2.5) planted in
# random values, so the cases check the derivative conventions there.
ACT_SHAPE = (2, 3, 4, 5)
KINKS = [0.0, -3.0, 3.0, 6.0, -6.0, -0.5, 1.25, 2.5, -2.5]
act_x = torch.randn(*ACT_SHAPE, dtype=torch.float32) * 3
act_x.view(-1)[:len(KINKS) * 13:13] = torch.tensor(KINKS)
act_x = act_x.double()
act_dy = f32(*ACT_SHAPE)


def act_case(name, kind, f, **params):
    xt = leaf(act_x)
    y = f(xt)
    (y * act_dy).sum().backward()
    return dict(name=name, kind=kind, y=flat(y), dx=flat(xt.grad), **params)


def prelu_case(name, shared):
    c = ACT_SHAPE[-1]
    alpha = (torch.rand(1 if shared else c, dtype=torch.float32) - 0.5).double()
    xt, a = leaf(act_x), leaf(alpha)
    y = nhwc(F.prelu(nchw(xt), a))
    (y * act_dy).sum().backward()
    return {"name": name, "kind": "prelu", "shared": shared, "alpha": flat(alpha),
            "y": flat(y), "dx": flat(xt.grad), "dalpha": flat(a.grad)}


def softmax_case(name, shape, dim):
    x = f32(*shape, scale=2)
    dy = f32(*shape)
    xt = leaf(x)
    y = torch.softmax(xt, dim)
    (y * dy).sum().backward()
    return {"name": name, "shape": list(shape), "axis": dim, "x": flat(x), "dy": flat(dy),
            "y": flat(y), "dx": flat(xt.grad)}


def matmul_case(name, ashape, bshape, trans_a=False, trans_b=False):
    a, b = leaf(f32(*ashape)), leaf(f32(*bshape))
    opa = a.transpose(-1, -2) if trans_a else a
    opb = b.transpose(-1, -2) if trans_b else b
    y = torch.matmul(opa, opb)
    dy = f32(*y.shape)
    (y * dy).sum().backward()
    return {"name": name, "kind": "matmul", "trans_a": trans_a, "trans_b": trans_b,
            "a_shape": list(ashape), "b_shape": list(bshape), "y_shape": list(y.shape),
            "a": flat(a), "b": flat(b), "dy": flat(dy), "y": flat(y),
            "da": flat(a.grad), "db": flat(b.grad)}


def gemm_case(name, ashape, bshape, cshape, trans_a, trans_b, alpha, beta):
    a, b = leaf(f32(*ashape)), leaf(f32(*bshape))
    opa = a.t() if trans_a else a
    opb = b.t() if trans_b else b
    y = alpha * (opa @ opb)
    out = {"name": name, "kind": "gemm", "trans_a": trans_a, "trans_b": trans_b,
           "alpha": alpha, "beta": beta, "a_shape": list(ashape), "b_shape": list(bshape)}
    c = None
    if cshape is not None:
        c = leaf(f32(*cshape))
        y = y + beta * c
        out["c_shape"], out["c"] = list(cshape), flat(c)
    dy = f32(*y.shape)
    (y * dy).sum().backward()
    out.update({"y_shape": list(y.shape), "a": flat(a), "b": flat(b), "dy": flat(dy),
                "y": flat(y), "da": flat(a.grad), "db": flat(b.grad)})
    if c is not None:
        out["dc"] = flat(c.grad)
    return out


fixtures = {
    "generator": "gen_torch_norm.py",
    "torch": torch.__version__,
    "batchnorm": [
        bn_case("4d", (3, 5, 4, 6), 0.9, 1e-3),
        bn_case("3d", (2, 9, 5), 0.99, 1e-5),
        bn_case("2d", (7, 3), 0.8, 1e-3),
    ],
    "layernorm": [
        ln_case("last axis", (4, 7), 1, 1e-5),
        ln_case("tokens", (2, 3, 5), 1, 1e-3),
        ln_case("image hwc", (2, 3, 4, 5), 3, 1e-5),
    ],
    "act_shape": list(ACT_SHAPE),
    "act_x": flat(act_x),
    "act_dy": flat(act_dy),
    "activations": [
        act_case("relu", "relu", F.relu),
        act_case("relu6", "relu6", F.relu6),
        act_case("clip", "clip", lambda x: F.hardtanh(x, -0.5, 1.25), min=-0.5, max=1.25),
        act_case("leaky_relu 0.01", "leaky_relu", lambda x: F.leaky_relu(x, 0.01), alpha=0.01),
        act_case("leaky_relu 0.3", "leaky_relu", lambda x: F.leaky_relu(x, 0.3), alpha=0.3),
        act_case("elu 1", "elu", lambda x: F.elu(x, 1.0), alpha=1.0),
        act_case("elu 0.7", "elu", lambda x: F.elu(x, 0.7), alpha=0.7),
        act_case("sigmoid", "sigmoid", torch.sigmoid),
        act_case("tanh", "tanh", torch.tanh),
        act_case("hardsigmoid torch", "hard_sigmoid", F.hardsigmoid, alpha=1 / 6, beta=0.5),
        # ONNX's defaults; hardtanh's derivative is 0 at the bounds, as
        # hardsigmoid's.
        act_case("hardsigmoid onnx", "hard_sigmoid", lambda x: F.hardtanh(0.2 * x + 0.5, 0, 1),
                 alpha=0.2, beta=0.5),
        act_case("hardswish", "hard_swish", F.hardswish),
        act_case("silu", "silu", F.silu),
        act_case("gelu", "gelu", F.gelu, approximate="none"),
        act_case("gelu tanh", "gelu", lambda x: F.gelu(x, approximate="tanh"), approximate="tanh"),
        prelu_case("prelu per channel", False),
        prelu_case("prelu shared", True),
    ],
    "softmax": [
        softmax_case("axis -1", (3, 7), -1),
        softmax_case("axis 1 of 3d", (2, 5, 3), 1),
        softmax_case("axis -1 of 4d", (2, 3, 2, 6), -1),
        softmax_case("axis 2 of 4d", (2, 3, 4, 2), 2),
    ],
    "matmul": [
        matmul_case("batched x matrix", (2, 3, 4, 5), (5, 6)),
        matmul_case("broadcast both", (3, 1, 4, 5), (2, 5, 3)),
        matmul_case("trans_b attention", (2, 2, 5, 4), (2, 2, 3, 4), trans_b=True),
        matmul_case("trans_a", (3, 4, 2), (3, 4, 5), trans_a=True),
        matmul_case("trans both", (2, 3, 4), (2, 5, 3), trans_a=True, trans_b=True),
        matmul_case("vector x batched", (4,), (2, 4, 3)),
        matmul_case("batched x vector", (2, 3, 4), (4,)),
        matmul_case("shared a", (4, 5), (3, 5, 2)),
        matmul_case("many small", (9, 3, 3), (9, 3, 2)),
        matmul_case("shared b transposed", (2, 3, 4), (5, 4), trans_b=True),
        matmul_case("shared b, a transposed", (2, 4, 3), (4, 5), trans_a=True),
    ],
    "gemm": [
        gemm_case("bias row", (4, 3), (3, 5), (5,), False, False, 1.0, 1.0),
        gemm_case("trans, column bias", (3, 4), (5, 3), (4, 1), True, True, 0.5, 2.0),
        gemm_case("full c", (4, 3), (3, 5), (4, 5), False, False, 1.0, -1.0),
        gemm_case("no c, trans_b", (4, 3), (5, 3), None, False, True, 1.5, 1.0),
        gemm_case("scalar c", (2, 3), (3, 4), (), False, False, 1.0, -0.5),
        gemm_case("c (1, n), trans_a", (3, 2), (3, 4), (1, 4), True, False, 2.0, 0.25),
    ],
}

# Gzipped (about 130 KB of JSON); mtime 0 keeps the file byte-identical
# between runs.
with open("torch_norm.json.gz", "wb") as raw:
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fp:
        fp.write(json.dumps(fixtures, separators=(",", ":")).encode() + b"\n")
