"""Times OpenCV's CascadeClassifier.detectMultiScale on the 640x480 bench
photo (grace_hopper.bmp centred on a gray canvas, built exactly like
pad640 in detect/bench_test.go). Prints one line per thread setting:
`opencv threads=N median_ms=M faces=F`."""
import os
import statistics
import sys
import time

import cv2
import numpy as np

shared = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
cascade = cv2.CascadeClassifier(os.path.join(shared, "models/haarcascades/haarcascade_frontalface_default.xml"))
src = cv2.imread(os.path.join(shared, "models/coral/grace_hopper.bmp"))  # 600x512 BGR
img = np.full((480, 640, 3), 128, np.uint8)
dx, dy = (640 - src.shape[1]) // 2, (480 - src.shape[0]) // 2  # 64, -60
img[:, dx:dx + src.shape[1]] = src[-dy:-dy + 480]

for threads in (1, os.cpu_count()):
    cv2.setNumThreads(threads)
    cascade.detectMultiScale(img)  # warm up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        faces = cascade.detectMultiScale(img, scaleFactor=1.1, minNeighbors=3)
        times.append((time.perf_counter() - t) * 1000)
    print(f"opencv threads={threads} median_ms={statistics.median(times):.1f} faces={len(faces)}")
