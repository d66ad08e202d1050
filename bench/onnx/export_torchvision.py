"""Exports torchvision 0.14's classification architectures with seeded
random weights to ONNX (opset 13, dynamic batch axis) for
bench/onnx/run.sh, and writes seeded inputs for batch 1 and 4 as .npy.

Batch norms get random running statistics and affine parameters (a fresh
model has mean 0, variance 1, weight 1, bias 0, which would not test
their folding), scaled so that activations stay in range through deep
networks.

    /usr/bin/python3 bench/onnx/export_torchvision.py OUTDIR [ARCH ...]
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

ARCHS = [
    "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "vgg11", "vgg16_bn",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
    "regnet_x_400mf", "regnet_y_400mf", "shufflenet_v2_x1_0", "squeezenet1_0", "squeezenet1_1",
    "densenet121", "mnasnet1_0", "googlenet", "convnext_tiny",
]


def build(name):
    kw = {"weights": None}
    if name == "googlenet":
        kw.update(aux_logits=False, init_weights=True)
    m = getattr(torchvision.models, name)(**kw)
    g = torch.Generator().manual_seed(7)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            mod.weight.data.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.randn(c, generator=g) * 0.1)
    return m.eval()


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or ARCHS
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(11)
    manifest = {"inputs": {}, "models": []}
    for b in (1, 4):
        x = rng.standard_normal((b, 3, 224, 224), dtype=np.float32)
        p = os.path.join(out, f"input_b{b}.npy")
        np.save(p, x)
        manifest["inputs"][str(b)] = os.path.basename(p)
    for name in names:
        torch.manual_seed(0)
        m = build(name)
        path = os.path.join(out, name + ".onnx")
        with torch.no_grad():
            torch.onnx.export(m, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                              do_constant_folding=True)
        manifest["models"].append({"name": name, "file": os.path.basename(path),
                                   "params": sum(p.numel() for p in m.parameters())})
        print(f"exported {name}", file=sys.stderr)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
