#!/usr/bin/python3
"""Writes sklearn_knn.json: scikit-learn's KNeighborsClassifier (uniform
weights, Euclidean distance, brute force) predict_proba for random float32
points, the reference of nn.KNN (knn_test.go), and numpy's joint colour
histogram of random images, the reference of nn.ColorHistogram.

Run from this directory with /usr/bin/python3 (scikit-learn 1.2, numpy):

    /usr/bin/python3 gen_sklearn_knn.py
"""
import json

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

rng = np.random.default_rng(20261201)


def f32(a):
    return [float(str(v)) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


cases = []
for n, d, classes, k in [(40, 7, 3, 1), (60, 5, 4, 3), (90, 12, 5, 7), (25, 3, 2, 4)]:
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, classes, n)
    y[:classes] = np.arange(classes)  # every class present
    q = rng.standard_normal((11, d)).astype(np.float32)
    m = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(x.astype(np.float64), y)
    p = m.predict_proba(q.astype(np.float64))
    cases.append({"k": k, "classes": classes, "x_shape": [n, d], "x": f32(x), "y": y.tolist(),
                  "q_shape": [11, d], "q": f32(q), "proba": f32(p), "pred": m.predict(q.astype(np.float64)).tolist()})

hists = []
for shape, bins in [((2, 5, 6, 3), 4), ((3, 7, 4, 1), 8), ((1, 3, 3, 2), 3)]:
    img = rng.random(shape).astype(np.float32)
    img[0, 0, 0, :] = 1.0  # the top edge counts in the last bin
    out = []
    for b in range(shape[0]):
        px = np.clip((img[b].reshape(-1, shape[3]) * bins).astype(np.int64), 0, bins - 1)
        h, _ = np.histogramdd(px, bins=[np.arange(bins + 1) - 0.5] * shape[3])
        out.append(h.reshape(-1) / px.shape[0])
    hists.append({"shape": list(shape), "bins": bins, "x": f32(img), "hist": f32(np.array(out))})

with open("sklearn_knn.json", "w") as f:
    json.dump({"knn": cases, "histograms": hists}, f, separators=(",", ":"))
print("wrote sklearn_knn.json:", len(cases), "k-NN cases,", len(hists), "histograms")
