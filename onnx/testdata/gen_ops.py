"""Tiny ONNX models exercising the ops the importer supports, exported
from PyTorch 1.13 (opset 13, some 11 and 9), with seeded inputs: one
folder per case under onnx/testdata/ops/ holding model.onnx and
input_K.npy. gen_ops_ref.js then adds ONNX Runtime's outputs
(ort_output_K.npy); onnx/ops_test.go compares dlcv with them.

    /usr/bin/python3 onnx/testdata/gen_ops.py && node onnx/testdata/gen_ops_ref.js
"""
import os
import shutil

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "ops")


class Fn(nn.Module):
    def __init__(self, f, *mods):
        super().__init__()
        self.f = f
        self.mods = nn.ModuleList(mods)

    def forward(self, *xs):
        return self.f(self.mods, *xs)


def case(name, model, inputs, opset=13, dynamic=None, names=None):
    torch.manual_seed(0)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.eval()
    names = names or [f"x{i}" for i in range(len(inputs))]
    axes = {}
    if dynamic:
        for n in names:
            axes[n] = dynamic
    with torch.no_grad():
        torch.onnx.export(model, tuple(inputs), os.path.join(d, "model.onnx"), opset_version=opset,
                          input_names=names, dynamic_axes=axes or None, do_constant_folding=True)
    for i, x in enumerate(inputs):
        np.save(os.path.join(d, f"input_{i}.npy"), x.numpy())


def rnd(*shape, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g)


def bn(c):
    b = nn.BatchNorm2d(c)
    g = torch.Generator().manual_seed(c)
    b.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
    b.running_var.copy_(torch.rand(c, generator=g) + 0.5)
    b.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
    b.bias.data.copy_(torch.randn(c, generator=g) * 0.2)
    return b


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    torch.manual_seed(0)
    x = rnd(2, 3, 9, 11)
    batch = {0: "n"}
    spatial = {0: "n", 2: "h", 3: "w"}
    # Convolutions.
    case("conv", nn.Conv2d(3, 4, 3, padding=1), [x], dynamic=spatial)
    case("conv_stride_dilation_groups", nn.Conv2d(3, 6, 3, stride=2, dilation=2, groups=3, padding=(2, 1)), [x])
    case("conv_depthwise_bn_relu6", nn.Sequential(nn.Conv2d(3, 3, 3, groups=3, bias=False), bn(3), nn.ReLU6()), [x], dynamic=batch)
    case("conv1d", nn.Conv1d(3, 5, 3, stride=2, padding=1), [rnd(2, 3, 10)])
    case("conv_transpose", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), [x], dynamic=batch)
    case("conv_transpose_groups", nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), groups=2, dilation=(1, 2)), [rnd(1, 4, 5, 6)])
    case("conv_transpose1d", nn.ConvTranspose1d(3, 2, 4, stride=2), [rnd(2, 3, 7)])
    # Pooling.
    case("maxpool_ceil", nn.MaxPool2d(3, stride=2, ceil_mode=True), [x], dynamic=spatial)
    case("maxpool_pad", nn.MaxPool2d((2, 3), stride=(1, 2), padding=1), [x])
    case("avgpool", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), [x])
    case("avgpool_include_pad", nn.AvgPool2d(3, stride=2, padding=1), [x])
    case("avgpool_ceil", nn.AvgPool2d(2, stride=2, ceil_mode=True), [x])
    case("adaptive_avgpool", nn.AdaptiveAvgPool2d(1), [x], dynamic=spatial)
    case("global_maxpool", Fn(lambda m, a: F.adaptive_max_pool2d(a, 1)), [x])
    case("maxpool1d", nn.MaxPool1d(3, stride=2), [rnd(2, 3, 10)])
    # Normalisation.
    case("batchnorm", bn(3), [x], dynamic=batch)
    case("batchnorm1d", nn.BatchNorm1d(5).eval(), [rnd(4, 5)])
    case("layernorm", nn.LayerNorm([11]), [x], dynamic=batch)
    case("layernorm_2d", nn.LayerNorm([9, 11]), [x], opset=13)
    case("instancenorm", nn.InstanceNorm2d(3, affine=True), [x])
    case("groupnorm", nn.GroupNorm(3, 6), [rnd(2, 6, 4, 5)])
    # Dense layers, products.
    case("flatten_linear", nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 7 * 9, 5)), [x], dynamic=batch)
    case("view_linear", Fn(lambda m, a: m[0](a.view(a.size(0), -1)), nn.Linear(3 * 9 * 11, 4)), [x], dynamic=batch)
    case("linear_3d", nn.Linear(11, 6), [rnd(2, 5, 11)], dynamic={0: "n", 1: "t"})
    case("matmul_batched", Fn(lambda m, a, b: torch.matmul(a, b.transpose(-1, -2))), [rnd(2, 3, 4, 5), rnd(2, 1, 6, 5, seed=2)])
    case("gemm_no_bias", nn.Linear(7, 3, bias=False), [rnd(4, 7)])
    case("bmm_attention", Fn(lambda m, q, k: F.softmax(q @ k.transpose(1, 2) / 2, dim=-1) @ k), [rnd(2, 4, 8), rnd(2, 6, 8, seed=3)])
    # Element-wise.
    case("arith_broadcast", Fn(lambda m, a, b: (a + b) * 2 - a / (b.abs() + 1) + torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1)),
         [x, rnd(1, 3, 1, 11, seed=4)])
    case("activations", Fn(lambda m, a: torch.cat([F.relu(a), F.leaky_relu(a, 0.1), F.elu(a), F.selu(a), F.celu(a, 0.7),
                                                  torch.sigmoid(a), torch.tanh(a), F.hardsigmoid(a), F.hardswish(a),
                                                  F.silu(a), F.gelu(a), F.softplus(a), F.softsign(a), F.relu6(a * 4),
                                                  F.hardtanh(a, -0.5, 0.3), F.mish(a)], 1)), [x])
    case("prelu", nn.PReLU(3, 0.2), [x])
    case("unary_math", Fn(lambda m, a: torch.cat([torch.exp(a), torch.log(a.abs() + 0.1), torch.sqrt(a.abs()), -a,
                                                 torch.reciprocal(a + 3), torch.floor(a), torch.ceil(a), torch.round(a * 3),
                                                 torch.sign(a), torch.sin(a), torch.cos(a), torch.erf(a), torch.pow(a, 3),
                                                 torch.pow(a.abs(), 0.7), torch.atan(a), torch.tan(a * 0.5)], 1)), [x])
    case("clamp_minmax", Fn(lambda m, a, b: torch.cat([torch.clamp(a, min=-0.5), torch.clamp(a, max=0.2), torch.maximum(a, b),
                                                      torch.minimum(a, b)], 1)), [x, rnd(2, 3, 9, 11, seed=5)], opset=11)
    case("compare_where", Fn(lambda m, a, b: torch.where((a > b) | (a < -1), a, b * 2) + (a == a.round()).float()
                             + (a >= 0).float() - (b <= 0).float()), [x, rnd(3, 1, 11, seed=6)])
    case("mod_fmod", Fn(lambda m, a: torch.cat([torch.remainder(a, 0.7), torch.fmod(a, 0.7)], 1)), [x])
    case("pow_tensor", Fn(lambda m, a, b: torch.pow(a.abs() + 0.5, b)), [x, rnd(11, seed=7)])
    # Softmax and reductions.
    case("softmax_dims", Fn(lambda m, a: torch.cat([F.softmax(a, 1), F.log_softmax(a, 3), F.softmax(a, 0)], 1)), [x])
    case("softmax_opset11", Fn(lambda m, a: torch.cat([F.softmax(a, 1), F.log_softmax(a, -1)], 1)), [x], opset=11)
    case("reductions", Fn(lambda m, a: (a.mean((2, 3), keepdim=True), a.sum(1), a.amax(3, keepdim=True), a.amin((1, 3)), a.mean(-1))), [x])
    case("reduce_norms", Fn(lambda m, a: torch.stack([a.norm(dim=1), a.abs().sum(1), (a * a).sum(1), torch.logsumexp(a, 1)], 1)), [x])
    case("argmax_topk", Fn(lambda m, a: (a.argmax(1), a.argmin(-1, keepdim=True), torch.topk(a, 3, dim=3)[0], torch.topk(a, 2, dim=1, largest=False)[1])), [x])
    # Shapes and layout.
    case("reshape_dynamic", Fn(lambda m, a: m[0](a).reshape(a.shape[0], 2, -1, a.shape[3]).permute(0, 2, 1, 3).reshape(a.shape[0], -1, 2 * a.shape[3]), nn.Conv2d(3, 4, 1)),
         [x], dynamic=batch)
    case("tokens", Fn(lambda m, a: m[1](m[0](a).flatten(2).transpose(1, 2)).transpose(1, 2).reshape(a.shape[0], 4, 7, 9), nn.Conv2d(3, 4, 3), nn.LayerNorm(4)),
         [x], dynamic=batch)
    case("channel_shuffle", Fn(lambda m, a: m[1](m[0](a).view(a.size(0), 2, 3, a.size(2), a.size(3)).transpose(1, 2).reshape(a.size(0), 6, a.size(2), a.size(3))),
                               nn.Conv2d(3, 6, 1), nn.Conv2d(6, 2, 3)), [x], dynamic=spatial)
    case("permute_channels_last", Fn(lambda m, a: m[1](m[0](a).permute(0, 2, 3, 1)).permute(0, 3, 1, 2), nn.Conv2d(3, 4, 3), nn.Linear(4, 5)), [x], dynamic=batch)
    case("concat_split", Fn(lambda m, a: torch.cat(torch.split(m[0](a), [1, 3], 1)[::-1] + (a,), 1), nn.Conv2d(3, 4, 1)), [x], dynamic=spatial)
    case("chunk_axis3", Fn(lambda m, a: torch.cat(torch.chunk(a, 3, dim=3)[::-1], 3)), [rnd(2, 3, 4, 9)])
    case("squeeze_unsqueeze", Fn(lambda m, a: (m[0](a).mean(3).unsqueeze(1) * 2).squeeze(1).unsqueeze(-1), nn.Conv2d(3, 2, 1)), [x], dynamic=batch)
    case("slice_gather", Fn(lambda m, a: (a[:, 1:2, ::2, -4:], a[:, [2, 0], 1:6:2, 3:7], a[:, :, torch.tensor([4, 0, 2]), :4])), [x])
    case("index_select", Fn(lambda m, a: (a[:, 1], a[:, :, 2].unsqueeze(1).transpose(1, 2)[:, :, :, 0].unsqueeze(-1), a[..., -1])), [x])
    case("flip", Fn(lambda m, a: torch.flip(a, [2, 3])), [x])
    case("pad_modes", Fn(lambda m, a: torch.cat([F.pad(a, (1, 2, 0, 1)), F.pad(a, (1, 2, 0, 1), mode="reflect"), F.pad(a, (1, 2, 0, 1), mode="replicate")], 1)), [x])
    case("pad_negative", Fn(lambda m, a: F.pad(a, (-1, 2, 1, -2))), [x])
    case("expand_repeat", Fn(lambda m, a: a[:, :, :1, :].expand(-1, -1, 4, -1) + a[:, :, :4, :1].repeat(1, 1, 1, 11)), [x], dynamic=batch)
    case("pixel_shuffle", nn.PixelShuffle(2), [rnd(2, 8, 3, 4)])
    case("pixel_unshuffle", nn.PixelUnshuffle(2), [rnd(2, 2, 4, 6)])
    # Resizes.
    case("upsample_nearest", nn.Upsample(scale_factor=2, mode="nearest"), [x], dynamic=spatial)
    case("upsample_bilinear", nn.Upsample(scale_factor=(1.5, 2), mode="bilinear", align_corners=False), [x])
    case("upsample_bilinear_align", nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True), [x])
    case("interpolate_size_nearest", Fn(lambda m, a: F.interpolate(a, size=(4, 20))), [x])
    case("upsample_opset9", nn.Upsample(scale_factor=2, mode="nearest"), [x], opset=9)
    # Casts and constants.
    case("cast_arange", Fn(lambda m, a: a * torch.arange(a.shape[3]).float() + (a > 0).long().float() + a.int().float()), [x])
    case("zeros_like_full", Fn(lambda m, a: torch.zeros_like(a) + torch.full((1, 3, 1, 1), 0.5) + torch.ones(a.shape[3])), [x])
    case("slice_opset9", Fn(lambda m, a: a[:, 1:, 2:-1] * 2), [x], opset=9)
    case("dropout_identity", nn.Sequential(nn.Dropout(0.5), nn.Identity(), nn.Conv2d(3, 2, 1)), [x])


if __name__ == "__main__":
    main()
