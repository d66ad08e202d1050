"""Generate OpenCV reference fixtures for imgproc's filter tests.

Run from the repository root with the shared data directory beside it:

    /usr/bin/python3 imgproc/testdata/gen_fixtures.py [SHARED_DIR]

(OpenCV 4.6, numpy). Writes imgproc/testdata/filter2d_cv2.json.gz: for each
photo, a small crop's RGB pixels, its cv2.cvtColor RGB2GRAY values and, for
every kernel of the bank plus a custom non-square kernel, the result of
cv2.filter2D(gray as float32, cv2.CV_32F, kernel, borderType=...) before any
clipping. Crops are stored so the Go test needs no decoder to match; it still
checks that its BMP decoder gives the same pixels.
"""
import gzip
import json
import math
import os
import sys

import cv2
import numpy as np

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")


def box(n):
    return np.full((n, n), 1.0 / (n * n))


def gaussian(sigma):
    n = 2 * int(math.ceil(3 * sigma)) + 1
    g = cv2.getGaussianKernel(n, sigma, cv2.CV_64F)
    return g @ g.T


KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
    "blur-small": box(7),
    "blur-large": box(21),
    "gaussian": gaussian(2.0),
    "gaussian:0.8": gaussian(0.8),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
    "sobel-x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "sobel-y": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float).T,
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], float),
    # Custom: even width, not separable, asymmetric (tests the anchor).
    "custom": np.array([[1, 2, 0, -1], [0, 3, 1, 2], [-2, 1, 0, 1]], float),
}

BORDERS = {"reflect101": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE, "zero": cv2.BORDER_CONSTANT}

# (file, x, y, w, h, borders)
CROPS = [
    ("models/coral/grace_hopper.bmp", 200, 150, 48, 40, ["reflect101", "replicate"]),
    ("models/coral/cat.bmp", 240, 100, 32, 24, ["reflect101", "replicate", "zero"]),
]


def num(v):
    v = float(v)
    return int(v) if v == int(v) else float("%.7g" % v)


out = {"opencv": cv2.__version__, "images": []}
for path, x, y, w, h, borders in CROPS:
    bgr = cv2.imread(os.path.join(shared, path), cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[y : y + h, x : x + w].copy()
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    src = gray.astype(np.float32)
    results = []
    for name, k in KERNELS.items():
        for b in borders:
            r = cv2.filter2D(src, cv2.CV_32F, k, borderType=BORDERS[b])
            results.append({"kernel": name, "border": b, "flip": False, "data": [num(v) for v in r.ravel()]})
    # True convolution: flipped kernel with the mirrored anchor (OpenCV docs).
    k = KERNELS["custom"]
    kh, kw = k.shape
    for b in borders:
        r = cv2.filter2D(src, cv2.CV_32F, cv2.flip(k, -1), anchor=(kw - 1 - kw // 2, kh - 1 - kh // 2), borderType=BORDERS[b])
        results.append({"kernel": "custom", "border": b, "flip": True, "data": [num(v) for v in r.ravel()]})
    out["images"].append({
        "file": path, "x": x, "y": y, "w": w, "h": h,
        "rgb": rgb.ravel().tolist(), "gray": gray.ravel().tolist(),
        "results": results,
    })
out["kernels"] = {n: {"w": k.shape[1], "h": k.shape[0], "data": k.ravel().tolist()} for n, k in KERNELS.items()}

dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "filter2d_cv2.json.gz")
with gzip.GzipFile(dst, "wb", mtime=0) as f:
    f.write(json.dumps(out, separators=(",", ":")).encode())
print("wrote", dst, os.path.getsize(dst), "bytes")
