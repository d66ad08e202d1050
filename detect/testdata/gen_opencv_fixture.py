"""Generates the OpenCV reference for the detect package's tests.

Run from the repository root with the shared data beside it:

    /usr/bin/python3 detect/testdata/gen_opencv_fixture.py ../shared

(cv2 4.6). It writes, next to this script:
  opencv_faces.json   detectMultiScale boxes (and raw windows) per case,
                      plus small integral-image, resize and gray references

The "mosaic" cases use 9 SMILEsmileD faces (64x64, and enlarged to 96x96)
on a gray canvas; the dataset may not be redistributed, so the mosaic is
not stored: mosaicImage in detect_test.go builds the same one.
"""
import json
import os
import sys

import cv2
import numpy as np

shared = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
casc_dir = os.path.join(shared, "models/haarcascades")
smiles = "data/SMILEsmileD/SMILEs/positives/positives7"
# Faces the frontal cascade finds once they have some margin around them.
face_files = ["100.jpg", "1000.jpg", "10007.jpg", "10009.jpg", "10011.jpg",
              "10013.jpg", "10018.jpg", "10022.jpg", "10025.jpg"]


def load_gray(rel):
    return cv2.imread(os.path.join(shared, rel), cv2.IMREAD_GRAYSCALE)


# Mosaic: row 1 five 64x64 faces in 128x128 cells, row 2 four faces
# enlarged to 96x96 in 160x160 cells; background 128.
mosaic = np.full((128 + 160, 640), 128, np.uint8)
for i, f in enumerate(face_files[:5]):
    mosaic[32:96, i * 128 + 32:i * 128 + 96] = load_gray(f"{smiles}/{f}")
for i, f in enumerate(face_files[5:]):
    big = cv2.resize(load_gray(f"{smiles}/{f}"), (96, 96), interpolation=cv2.INTER_LINEAR_EXACT)
    mosaic[128 + 32:128 + 128, i * 160 + 32:i * 160 + 128] = big
mosaic = cv2.cvtColor(mosaic, cv2.COLOR_GRAY2BGR)


def boxes(rects):
    return sorted([int(v) for v in r] for r in rects)


def run(cascade_name, img, **kw):
    c = cv2.CascadeClassifier(os.path.join(casc_dir, cascade_name))
    assert not c.empty(), cascade_name
    grouped, neighbours = c.detectMultiScale2(img, **kw)
    grouped = [list(r) + [n] for r, n in zip(grouped, neighbours)]  # x y w h neighbours
    raw_kw = dict(kw, minNeighbors=0)
    raw = c.detectMultiScale(img, **raw_kw)
    return boxes(grouped), boxes(raw)


cases = []


# lossy: the image comes from JPEG files, which Go's decoder and libjpeg
# decode with small differences, so groups near the neighbour threshold
# may come out differently.
def add(name, source, img, cascade="haarcascade_frontalface_default.xml", pad=0, keep_raw=True, lossy=False, **kw):
    params = {"scaleFactor": 1.1, "minNeighbors": 3, "minSize": 0}
    params.update(kw)
    ms = params["minSize"]
    g, r = run(cascade, img, scaleFactor=params["scaleFactor"], minNeighbors=params["minNeighbors"],
               minSize=(ms, ms))
    case = {"name": name, "source": source, "pad": pad, "lossy": lossy, "cascade": cascade, "params": params,
            "boxes": g, "raw_count": len(r)}
    if keep_raw:
        case["raw"] = r
    cases.append(case)
    print(name, cascade, params, "->", g, "raw", len(r))


gh = cv2.imread(os.path.join(shared, "models/coral/grace_hopper.bmp"))
add("grace_hopper", "shared:models/coral/grace_hopper.bmp", gh)
add("grace_hopper_min30_s1.2", "shared:models/coral/grace_hopper.bmp", gh, scaleFactor=1.2, minSize=30)
add("grace_hopper_eyes", "shared:models/coral/grace_hopper.bmp", gh, cascade="haarcascade_eye.xml")
add("grace_hopper_smile", "shared:models/coral/grace_hopper.bmp", gh, cascade="haarcascade_smile.xml",
    keep_raw=False, minNeighbors=20)
add("mosaic", "mosaic", mosaic, keep_raw=False, lossy=True)
add("mosaic_smile", "mosaic", mosaic, cascade="haarcascade_smile.xml", keep_raw=False, lossy=True, minNeighbors=20)
# Single faces, read as JPEG by each side's decoder and padded by 32.
for f in face_files[:4]:
    img = cv2.copyMakeBorder(cv2.imread(os.path.join(shared, smiles, f)), 32, 32, 32, 32,
                             cv2.BORDER_CONSTANT, value=(128, 128, 128))
    add("smile_" + f, f"shared:{smiles}/{f}", img, pad=32, keep_raw=False, lossy=True)

# Small references for the building blocks.
rng = np.random.default_rng(7)
small = rng.integers(0, 256, (9, 11), dtype=np.uint8)
s, sq, t = cv2.integral3(small, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
big = rng.integers(0, 256, (23, 37), dtype=np.uint8)
resized = cv2.resize(big, (29, 17), interpolation=cv2.INTER_LINEAR_EXACT)
color = rng.integers(0, 256, (16, 64, 3), dtype=np.uint8)  # BGR
gray = cv2.cvtColor(color, cv2.COLOR_BGR2GRAY)

out = {
    "opencv": cv2.__version__,
    "cases": cases,
    "integral": {"w": 11, "h": 9, "pix": small.ravel().tolist(), "sum": s.ravel().astype(int).tolist(),
                 "sqsum": sq.ravel().astype(int).tolist(), "tilted": t.ravel().astype(int).tolist()},
    "resize": {"sw": 37, "sh": 23, "dw": 29, "dh": 17, "src": big.ravel().tolist(), "dst": resized.ravel().tolist()},
    "gray": {"bgr": color.ravel().tolist(), "gray": gray.ravel().tolist()},
}
with open(os.path.join(here, "opencv_faces.json"), "w") as fh:
    json.dump(out, fh, separators=(",", ":"))
    fh.write("\n")
