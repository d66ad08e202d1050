#!/usr/bin/python3
"""Writes torch_shape.json.gz: PyTorch reference values for the shape ops
(Concat, Split, Reshape, Transpose, Squeeze, Unsqueeze, Pad, Resize) and
the reductions (ReduceSum, ReduceMean, ReduceMax), forward and backward,
in dlcv's layouts (images NHWC).

Run from this directory with /usr/bin/python3 (torch 1.13 CPU):

    /usr/bin/python3 gen_torch_shape.py

Inputs are float32 values; PyTorch computes in float64 so the fixture is
the exact answer to float32 inputs. Each case holds the op's dlcv kind and
JSON config, so the Go test builds the op the way a model file does.

Resize: F.interpolate's 'nearest' is ONNX asymmetric coordinates with
floor rounding, 'bilinear' with align_corners=False is half_pixel and with
align_corners=True align_corners. TensorFlow's conventions, which torch
lacks, are written here as interpolation matrices from TensorFlow's own
kernel formulas (resize_nearest_neighbor_op.h, resize_bilinear_op.cc) and
applied with torch.einsum, so autograd gives the backward:

  - TF2 nearest (half_pixel_centers): in = min(floor((x + 0.5) * in/out), in-1)
  - TF1 nearest, align_corners=True: in = round-half-up(x * (in-1)/(out-1))
  - TF1 bilinear without flags: in = x * in/out, then the two neighbours
"""
import gzip
import json
import math

import torch
import torch.nn.functional as F

torch.manual_seed(2468)


def f32(*shape):
    return torch.randn(*shape, dtype=torch.float32).double().requires_grad_(True)


def flat(t):
    # Shortest decimal that round-trips the float32 value.
    return [float(str(v)) for v in t.detach().float().reshape(-1).numpy()]


def tj(t):
    return None if t is None else {"shape": list(t.shape), "data": flat(t)}


def case(name, kind, config, xs, fn, none_douts=()):
    """fn maps the inputs (as dlcv sees them) to a tuple of outputs; douts
    listed in none_douts are null (no gradient for that output). The
    inputs are copied, so cases sharing one get their own gradients."""
    xs = [x.detach().clone().requires_grad_(True) for x in xs]
    ys = fn(*xs)
    if not isinstance(ys, (tuple, list)):
        ys = (ys,)
    douts = []
    for i, y in enumerate(ys):
        douts.append(None if i in none_douts else torch.randn(y.shape, dtype=torch.float32).double())
    pairs = [(y, d) for y, d in zip(ys, douts) if d is not None]
    torch.autograd.backward([p[0] for p in pairs], [p[1] for p in pairs])
    return {
        "name": name, "kind": kind, "config": config,
        "inputs": [tj(x) for x in xs],
        "outputs": [tj(y) for y in ys],
        "douts": [tj(d) for d in douts],
        "dins": [tj(x.grad if x.grad is not None else torch.zeros_like(x)) for x in xs],
    }


def to_nchw(t):
    return t.permute(0, 3, 1, 2)


def to_nhwc(t):
    return t.permute(0, 2, 3, 1)


def interp(x, size=None, scale=None, mode="nearest", align=None):
    """F.interpolate on an NHWC tensor."""
    kw = {} if mode == "nearest" else {"align_corners": align}
    return to_nhwc(F.interpolate(to_nchw(x), size=size, scale_factor=scale, mode=mode, **kw))


def matrix_resize(x, ry, rx):
    """y[n, a, b, c] = sum_ij ry[a, i] rx[b, j] x[n, i, j, c]."""
    return torch.einsum("ai,bj,nijc->nabc", ry, rx, x)


def tf2_nearest(inn, out):
    m = torch.zeros(out, inn, dtype=torch.float64)
    for x in range(out):
        m[x, min(int(math.floor((x + 0.5) * inn / out)), inn - 1)] = 1
    return m


def tf1_nearest_align(inn, out):
    m = torch.zeros(out, inn, dtype=torch.float64)
    for x in range(out):
        v = x * (inn - 1) / (out - 1) if out > 1 else 0.0
        m[x, min(int(math.floor(v + 0.5)), inn - 1)] = 1
    return m


def tf1_bilinear(inn, out):
    m = torch.zeros(out, inn, dtype=torch.float64)
    for x in range(out):
        v = x * inn / out
        lo = int(math.floor(v))
        hi = min(lo + 1, inn - 1)
        f = v - lo
        m[x, lo] += 1 - f
        m[x, hi] += f
    return m


def onnx_nearest_half_pixel_floor(inn, out):
    """ONNX's defaults (half_pixel, round_prefer_floor), for a case with
    halves (sizes 6 from 4: x = 1 maps to 0.5)."""
    m = torch.zeros(out, inn, dtype=torch.float64)
    s = out / inn
    for x in range(out):
        v = (x + 0.5) / s - 0.5
        r = math.floor(v) if v - math.floor(v) == 0.5 else round(v)
        m[x, min(max(int(r), 0), inn - 1)] = 1
    return m


def bilinear_rows(inn, out, coord):
    """Bilinear rows for ONNX's pytorch_half_pixel (0 for one output)."""
    m = torch.zeros(out, inn, dtype=torch.float64)
    s = out / inn
    for x in range(out):
        v = 0.0 if (coord == "pytorch_half_pixel" and out == 1) else (x + 0.5) / s - 0.5
        v = min(max(v, 0.0), inn - 1)
        lo = int(math.floor(v))
        hi = min(lo + 1, inn - 1)
        m[x, lo] += 1 - (v - lo)
        m[x, hi] += v - lo
    return m


def pad_nhwc(x, pads, mode):
    """ONNX pads (all befores, then afters) on the H and W axes of NHWC."""
    t, l, b, r = pads[1], pads[2], pads[5], pads[6]
    return to_nhwc(F.pad(to_nchw(x), (l, r, t, b), mode=mode))


cases = []
add = cases.append

# Concat and Split.
a, b, c = f32(2, 3, 4, 2), f32(2, 3, 4, 5), f32(2, 3, 4, 1)
add(case("concat channels", "Concat", {"axis": -1}, [a, b, c], lambda *v: torch.cat(v, -1)))
a, b = f32(2, 1, 3), f32(2, 4, 3)
add(case("concat axis 1", "Concat", {"axis": 1}, [a, b], lambda *v: torch.cat(v, 1)))
a, b = f32(3, 2, 2), f32(1, 2, 2)
add(case("concat batch", "Concat", {"axis": 0}, [a, b], lambda *v: torch.cat(v, 0)))
x = f32(2, 3, 4, 6)
add(case("split channels", "Split", {"axis": -1, "sizes": [1, 3, 2]}, [x], lambda v: torch.split(v, [1, 3, 2], -1)))
x = f32(2, 7, 3)
add(case("split axis 1 one output without gradient", "Split", {"axis": 1, "sizes": [2, 5]}, [x],
         lambda v: torch.split(v, [2, 5], 1), none_douts=(0,)))
x = f32(2, 3, 9)
add(case("split parts", "Split", {"axis": 2, "parts": 3}, [x], lambda v: torch.split(v, 3, 2)))

# Reshape, Transpose, Squeeze, Unsqueeze.
x = f32(2, 3, 4, 5)
add(case("reshape flatten", "Reshape", {"shape": [0, -1]}, [x], lambda v: v.reshape(2, -1)))
add(case("reshape split axis", "Reshape", {"shape": [0, 3, 2, -1]}, [x], lambda v: v.reshape(2, 3, 2, 10)))
add(case("permute NCHW to NHWC", "Transpose", {"perm": [0, 2, 3, 1]}, [x], lambda v: v.permute(0, 2, 3, 1)))
add(case("permute NHWC to NCHW", "Transpose", {"perm": [0, 3, 1, 2]}, [x], lambda v: v.permute(0, 3, 1, 2)))
add(case("permute gather", "Transpose", {"perm": [3, 1, 0, 2]}, [x], lambda v: v.permute(3, 1, 0, 2)))
add(case("permute reverse", "Transpose", {}, [x], lambda v: v.permute(3, 2, 1, 0)))
x = f32(2, 1, 1, 6)
add(case("squeeze", "Squeeze", {"axes": [1, 2]}, [x], lambda v: v.squeeze(2).squeeze(1)))
x = f32(2, 6)
add(case("unsqueeze", "Unsqueeze", {"axes": [1, -1]}, [x], lambda v: v.unsqueeze(1).unsqueeze(-1)))

# Pad.
x = f32(2, 5, 4, 3)
pads = [0, 1, 2, 0, 0, 2, 1, 0]
add(case("pad constant", "Pad", {"pads": pads, "value": 0.5}, [x],
         lambda v: F.pad(v, (0, 0, 2, 1, 1, 2), value=0.5)))
add(case("pad reflect", "Pad", {"pads": pads, "mode": "reflect"}, [x], lambda v: pad_nhwc(v, pads, "reflect")))
add(case("pad edge", "Pad", {"pads": pads, "mode": "edge"}, [x], lambda v: pad_nhwc(v, pads, "replicate")))
x = f32(2, 3, 2, 5)
add(case("pad reflect channels", "Pad", {"pads": [0, 0, 0, 3, 0, 0, 0, 2], "mode": "reflect"}, [x],
         lambda v: F.pad(v.reshape(2, 6, 5), (3, 2), mode="reflect").reshape(2, 3, 2, 10)))
x = f32(3, 4)
add(case("pad constant batch", "Pad", {"pads": [1, 0, 2, 3]}, [x], lambda v: F.pad(v, (0, 3, 1, 2))))

# Resize, PyTorch's conventions.
x = f32(2, 3, 4, 2)
add(case("nearest scale 2", "Resize",
         {"mode": "nearest", "coordinate_mode": "asymmetric", "nearest_mode": "floor", "scales": [2, 2]},
         [x], lambda v: interp(v, scale=2.0)))
x = f32(2, 4, 3, 3)
add(case("nearest size up", "Resize",
         {"mode": "nearest", "coordinate_mode": "asymmetric", "nearest_mode": "floor", "sizes": [7, 5]},
         [x], lambda v: interp(v, size=(7, 5))))
x = f32(1, 7, 9, 2)
add(case("nearest size down", "Resize",
         {"mode": "nearest", "coordinate_mode": "asymmetric", "nearest_mode": "floor", "sizes": [3, 4]},
         [x], lambda v: interp(v, size=(3, 4))))
x = f32(2, 3, 4, 2)
add(case("bilinear scale 2", "Resize", {"mode": "bilinear", "scales": [2, 2]},
         [x], lambda v: interp(v, scale=2.0, mode="bilinear", align=False)))
x = f32(2, 3, 4, 3)
add(case("bilinear size up", "Resize", {"mode": "bilinear", "sizes": [5, 7]},
         [x], lambda v: interp(v, size=(5, 7), mode="bilinear", align=False)))
x = f32(1, 8, 9, 2)
add(case("bilinear size down", "Resize", {"mode": "bilinear", "sizes": [3, 4]},
         [x], lambda v: interp(v, size=(3, 4), mode="bilinear", align=False)))
x = f32(2, 4, 6, 2)
add(case("bilinear scales 1.5 0.5", "Resize", {"mode": "bilinear", "scales": [1.5, 0.5]},
         [x], lambda v: interp(v, scale=(1.5, 0.5), mode="bilinear", align=False)))
x = f32(2, 4, 3, 3)
add(case("bilinear align corners", "Resize", {"mode": "bilinear", "coordinate_mode": "align_corners", "sizes": [7, 5]},
         [x], lambda v: interp(v, size=(7, 5), mode="bilinear", align=True)))
x = f32(1, 5, 4, 2)
add(case("bilinear align corners down", "Resize", {"mode": "bilinear", "coordinate_mode": "align_corners", "sizes": [3, 2]},
         [x], lambda v: interp(v, size=(3, 2), mode="bilinear", align=True)))

# Resize, TensorFlow's and ONNX's other conventions (interpolation matrices).
x = f32(2, 4, 3, 2)
add(case("tf2 nearest", "Resize", {"mode": "nearest", "nearest_mode": "round_prefer_ceil", "sizes": [6, 9]},
         [x], lambda v: matrix_resize(v, tf2_nearest(4, 6), tf2_nearest(3, 9))))
add(case("onnx default nearest", "Resize", {"mode": "nearest", "sizes": [6, 9]},
         [x], lambda v: matrix_resize(v, onnx_nearest_half_pixel_floor(4, 6), onnx_nearest_half_pixel_floor(3, 9))))
add(case("tf1 nearest align corners", "Resize",
         {"mode": "nearest", "coordinate_mode": "align_corners", "nearest_mode": "round_prefer_ceil", "sizes": [7, 5]},
         [x], lambda v: matrix_resize(v, tf1_nearest_align(4, 7), tf1_nearest_align(3, 5))))
add(case("tf1 bilinear", "Resize", {"mode": "bilinear", "coordinate_mode": "asymmetric", "sizes": [7, 5]},
         [x], lambda v: matrix_resize(v, tf1_bilinear(4, 7), tf1_bilinear(3, 5))))
add(case("pytorch_half_pixel one row", "Resize", {"mode": "bilinear", "coordinate_mode": "pytorch_half_pixel", "sizes": [1, 5]},
         [x], lambda v: matrix_resize(v, bilinear_rows(4, 1, "pytorch_half_pixel"), bilinear_rows(3, 5, "pytorch_half_pixel"))))

# Reductions.
x = f32(3, 4, 5, 2)
add(case("mean spatial", "ReduceMean", {"axes": [1, 2]}, [x], lambda v: v.mean((1, 2))))
add(case("mean keepdims", "ReduceMean", {"axes": [1, -1], "keep_dims": True}, [x], lambda v: v.mean((1, 3), keepdim=True)))
add(case("sum batch", "ReduceSum", {"axes": [0]}, [x], lambda v: v.sum(0)))
add(case("sum all", "ReduceSum", {}, [x], lambda v: v.sum()))
add(case("max channels", "ReduceMax", {"axes": [-1]}, [x], lambda v: v.amax(-1)))
add(case("max spatial keepdims", "ReduceMax", {"axes": [1, 2], "keep_dims": True}, [x], lambda v: v.amax((1, 2), keepdim=True)))

# mtime=0: the same cases give the same bytes.
with open("torch_shape.json.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fp:
    fp.write(json.dumps({"generator": "gen_torch_shape.py", "torch": torch.__version__, "cases": cases}).encode())
    fp.write(b"\n")
