"""Generates resize fixtures for tflite's PIL-compatible bilinear resize.

Run: /usr/bin/python3 tflite/testdata/gen_fixtures.py  (needs Pillow, numpy)
The source image is a formula (no random numbers) so the Go test rebuilds
it exactly: pixel(x, y, c) = (x*37 + y*91 + c*53 + ((x*y) % 17)*13) % 256.
Writes resize_<W>x<H>_to_<w>x<h>.rgb: raw interleaved RGB bytes of
Image.resize((w, h), Image.BILINEAR).
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [((61, 43), (16, 16)), ((61, 43), (24, 9)), ((20, 13), (50, 30))]

for (W, H), (w, h) in CASES:
    y, x, c = np.meshgrid(np.arange(H), np.arange(W), np.arange(3), indexing="ij")
    src = ((x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 13) % 256).astype(np.uint8)
    out = np.asarray(Image.fromarray(src, "RGB").resize((w, h), Image.BILINEAR))
    name = f"resize_{W}x{H}_to_{w}x{h}.rgb"
    out.tofile(os.path.join(HERE, name))
    print(name, out.shape)
