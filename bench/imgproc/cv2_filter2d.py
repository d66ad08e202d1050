"""Time cv2.filter2D on the image and kernels of imgproc's BenchmarkFilter2D.

    cv2_filter2d.py time REPS [RE]     print "k=NAME/threads=T NS_PER_OP" lines
                                       (kernels whose whole name matches RE),
                                       and "into/k=..." for 3x3 kernels
                                       written into a given dst
    cv2_filter2d.py report GO.txt CV.txt  table of medians and ratios

Run by run.sh, which interleaves Go and OpenCV runs so both see the same
machine load.
"""
import math
import re
import statistics
import sys
import time

import cv2
import numpy as np


def dense(n):
    return np.sin(np.arange(1, n * n + 1, dtype=np.float64)).reshape(n, n)


def gaussian(sigma):
    n = 2 * int(math.ceil(3 * sigma)) + 1
    g = cv2.getGaussianKernel(n, sigma, cv2.CV_64F)
    return g @ g.T


KERNELS = [
    ("dense3", dense(3)),
    ("sharpen", np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float)),
    ("sobel-x", np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)),
    ("box21", np.full((21, 21), 1 / 441.0)),
    ("gauss21", gaussian(3.3)),
    ("dense21", dense(21)),
]

def time_cv2(reps, pattern=".*"):
    y, x = np.mgrid[0:1080, 0:1920]
    src = ((7 * x + 13 * y) % 256).astype(np.float32)
    for name, k in KERNELS:
        if not re.fullmatch(pattern, name):
            continue
        for threads in (1, 2):
            cv2.setNumThreads(threads)
            cv2.filter2D(src, cv2.CV_32F, k)  # warm up
            times = []
            for _ in range(reps):
                n, t0 = 0, time.perf_counter()
                while True:
                    cv2.filter2D(src, cv2.CV_32F, k)
                    n += 1
                    if time.perf_counter() - t0 > 0.2:
                        break
                times.append((time.perf_counter() - t0) / n * 1e9)
            print("k=%s/threads=%d %.0f" % (name, threads, sorted(times)[len(times) // 2]))
            if k.shape == (3, 3):
                dst = np.empty_like(src)
                times = []
                for _ in range(reps):
                    n, t0 = 0, time.perf_counter()
                    while True:
                        cv2.filter2D(src, cv2.CV_32F, k, dst=dst)
                        n += 1
                        if time.perf_counter() - t0 > 0.2:
                            break
                    times.append((time.perf_counter() - t0) / n * 1e9)
                print("into/k=%s/threads=%d %.0f" % (name, threads, sorted(times)[len(times) // 2]))


def medians(path, pattern):
    runs = {}
    for line in open(path):
        m = re.match(pattern, line)
        if m:
            runs.setdefault(m.group(1), []).append(float(m.group(2)))
    return {k: statistics.median(v) for k, v in runs.items()}, {k: len(v) for k, v in runs.items()}


def report(go_path, cv_path):
    go, n = medians(go_path, r"BenchmarkFilter2D/(k=\S+/threads=\d+)-\d+\s+\d+\s+([\d.]+) ns/op")
    cv, _ = medians(cv_path, r"(k=\S+/threads=\d+) ([\d.]+)")
    goi, _ = medians(go_path, r"BenchmarkFilter2DInto/(k=\S+/threads=\d+)-\d+\s+\d+\s+([\d.]+) ns/op")
    cvi, _ = medians(cv_path, r"into/(k=\S+/threads=\d+) ([\d.]+)")
    print("1920x1080 float32 gray, border reflect101, medians of %d runs; ratio = dlcv / cv2 (lower is better)" % max(n.values()))
    print("| kernel | threads | dlcv ms | cv2.filter2D ms | ratio | into dst: dlcv ms | cv2 ms | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, _ in KERNELS:
        for t in (1, 2):
            key = "k=%s/threads=%d" % (name, t)
            if key in go and key in cv:
                row = "| %s | %d | %.2f | %.2f | %.2f |" % (name, t, go[key] / 1e6, cv[key] / 1e6, go[key] / cv[key])
                if key in goi and key in cvi:
                    row += " %.2f | %.2f | %.2f |" % (goi[key] / 1e6, cvi[key] / 1e6, goi[key] / cvi[key])
                else:
                    row += " | | |"
                print(row)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "time":
        time_cv2(int(sys.argv[2]) if len(sys.argv) > 2 else 5, sys.argv[3] if len(sys.argv) > 3 else ".*")
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
