"""Inference speed against ONNX Runtime, issue 12's table: for each model,
batch and thread count, runs dlcv (bench/onnx/speed) and ONNX Runtime
(bench/onnx/ort_speed.js) alternately, round after round, each a fresh
process that loads the model, warms up and times REPS runs; prints the
median run time of each side (median over rounds of each round's
median), the ratio dlcv / ONNX Runtime (lower is better), the process
CPU time per run (all threads; dlcv's workers poll up to 200 us after
each part, which counts), the load or session-creation time, the first
(warm-up) run's time and the peak RSS. dlcv packs a frozen graph's
weights during its first run, ONNX Runtime during session creation: the
load plus the first run's extra time over a run is what compares with
the session creation.

    /usr/bin/python3 bench/onnx/speed.py SPEED_BINARY DIR ROUNDS MODEL...
"""
import json
import os
import statistics
import subprocess
import sys


def run(cmd, threads):
    env = dict(os.environ, GOMAXPROCS=str(threads), OMP_NUM_THREADS=str(threads))
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["rss_mb"] = int(p.stderr.strip().splitlines()[-1]) / 1024
    return r


def main():
    binary, d, rounds, models = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    configs = [(1, 1), (1, 2), (32, 2)]  # (batch, threads)
    print("| model | batch | threads | dlcv ms | ONNX Runtime ms | ratio | dlcv CPU ms | ORT CPU ms | dlcv load ms | ORT session ms | dlcv first run ms | ORT first run ms | dlcv RSS MB | ORT RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in models:
        f = os.path.join(d, m + ".onnx")
        for batch, threads in configs:
            x = os.path.join(d, f"input_b{batch}.npy")
            reps = "20" if batch == 1 else "3"
            res = {"dlcv": [], "ort": []}
            for r in range(rounds):
                order = ["dlcv", "ort"] if r % 2 == 0 else ["ort", "dlcv"]
                for side in order:
                    if side == "dlcv":
                        res[side].append(run([binary, f, x, reps], threads))
                    else:
                        res[side].append(run(["node", "bench/onnx/ort_speed.js", f, x, str(threads), reps], threads))
            med = {s: statistics.median(statistics.median(o["runs"]) for o in res[s]) for s in res}
            cpu = {s: statistics.median(statistics.median(o["cpu"]) for o in res[s]) for s in res}
            load = {s: statistics.median(o["create"] for o in res[s]) for s in res}
            rss = {s: statistics.median(o["rss_mb"] for o in res[s]) for s in res}
            first = {s: statistics.median(o["first"] for o in res[s]) for s in res}
            print(f"| {m} | {batch} | {threads} | {med['dlcv']:.2f} | {med['ort']:.2f} | {med['dlcv'] / med['ort']:.2f} "
                  f"| {cpu['dlcv']:.2f} | {cpu['ort']:.2f} | {load['dlcv']:.0f} | {load['ort']:.0f} | {first['dlcv']:.0f} | {first['ort']:.0f} "
                  f"| {rss['dlcv']:.0f} | {rss['ort']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
