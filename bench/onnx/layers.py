"""Per-layer comparison for bench/onnx/layers.sh: dlcv's node times (TSV
from bench/onnx/layers) beside ONNX Runtime's (its profiler's trace),
matched by the PyTorch module path both keep in their node names
(ONNX Runtime names fused nodes after their last output, e.g.
".../conv.0/conv.0.2/Clip_output_0_nchwc" for dlcv's
".../conv.0/conv.0.0/Conv"). Prints the totals and the layers where dlcv
loses most, in ms per run, then the same per block (parent module), which
compares like with like where dlcv runs two layers as one op.

    python3 bench/onnx/layers.py DLCV.tsv ORT_TRACE.json [ROWS]
"""
import collections
import json
import re
import statistics
import sys


def key(name):
    name = re.sub(r"_output_0(_nchwc)?$", "", name.rstrip("/"))
    # ".../conv.0/conv.0.2/Clip", ".../block.0.2/Mul/QuickGeluFusion": the
    # module is the path before the last dotted index pair.
    name = re.sub(r"/[^/]*\.\d+\.\d+(/[^/.]*)+$", "", name)
    return re.sub(r"/(Conv|Clip|Gemm|Relu|Add|Mul|Sigmoid|HardSigmoid|HardSwish)[^/]*$", "", name)


def main():
    dlcv_tsv, trace = sys.argv[1], sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    runs = collections.defaultdict(list)
    kinds = {}
    for e in json.load(open(trace)):
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            n = e["name"][: -len("_kernel_time")]
            runs[n].append(e["dur"])
            kinds[n] = e.get("args", {}).get("op_name", "?")
    ort, ort_ops = collections.defaultdict(float), collections.defaultdict(list)
    for n, d in runs.items():
        d = d[1:] or d  # the first run allocates
        ort[key(n)] += statistics.median(d) / 1000
        ort_ops[key(n)].append(kinds[n])
    dl, dl_ops = collections.defaultdict(float), collections.defaultdict(list)
    for line in open(dlcv_tsv):
        n, k, ms = line.rstrip("\n").split("\t")
        dl[key(n)] += float(ms)
        dl_ops[key(n)].append(k)
    print(f"sum of node times: dlcv {sum(dl.values()):.3f} ms, ONNX Runtime {sum(ort.values()):.3f} ms (profiling on)")
    print("| layer | dlcv ms | ONNX Runtime ms | difference | dlcv ops | ONNX Runtime ops |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for k in sorted(set(dl) | set(ort), key=lambda k: ort.get(k, 0) - dl.get(k, 0))[:rows]:
        print(f"| {k} | {dl.get(k, 0):.3f} | {ort.get(k, 0):.3f} | {dl.get(k, 0) - ort.get(k, 0):+.3f} "
              f"| {','.join(dl_ops.get(k, []))} | {','.join(ort_ops.get(k, []))} |")
    # dlcv's PointwiseDepthwise carries the depthwise layer's name and the
    # time of the 1x1 expansion before it too; per block (the parent
    # module) both sides hold the same layers.
    blk = lambda k: k.rsplit("/", 1)[0] if k.count("/") > 1 else k
    bdl, bort = collections.defaultdict(float), collections.defaultdict(float)
    for k, v in dl.items():
        bdl[blk(k)] += v
    for k, v in ort.items():
        bort[blk(k)] += v
    print()
    print("| block | dlcv ms | ONNX Runtime ms | difference |")
    print("| --- | ---: | ---: | ---: |")
    for k in sorted(set(bdl) | set(bort), key=lambda k: bort.get(k, 0) - bdl.get(k, 0))[:rows]:
        print(f"| {k} | {bdl.get(k, 0):.3f} | {bort.get(k, 0):.3f} | {bdl.get(k, 0) - bort.get(k, 0):+.3f} |")


main()
