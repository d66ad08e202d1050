#!/usr/bin/python3
"""Writes resize.json: OpenCV float32 resizes that data.Resize must match.
Run from this directory: /usr/bin/python3 gen_resize_fixtures.py (cv2 4.6)."""
import json

import cv2
import numpy as np

rng = np.random.RandomState(3)
cases = []
for (sh, sw, c), (dh, dw), interp in [
    ((13, 17, 3), (5, 7), "bilinear"),
    ((13, 17, 3), (20, 30), "bilinear"),
    ((8, 6, 1), (3, 11), "bilinear"),
    ((13, 17, 3), (5, 7), "area"),
    ((12, 12, 1), (4, 4), "area"),
    ((9, 10, 3), (4, 7), "area"),
]:
    src = rng.rand(sh, sw, c).astype(np.float32)
    flag = cv2.INTER_LINEAR if interp == "bilinear" else cv2.INTER_AREA
    dst = cv2.resize(src, (dw, dh), interpolation=flag).reshape(dh, dw, c)
    cases.append({"src": [float(v) for v in src.ravel()], "shape": [sh, sw, c], "size": [dh, dw],
                  "interp": interp, "want": [float(v) for v in dst.ravel()]})
with open("resize.json", "w") as f:
    json.dump({"opencv": cv2.__version__, "cases": cases}, f)
