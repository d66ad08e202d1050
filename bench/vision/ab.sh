#!/bin/sh
# In-process A/B of the annotate latency benchmarks (annotate/bench_test.go:
# Objects640, SafeSearch640, Faces640) between two commits: builds each
# commit's test binary, runs them in turns ROUNDS times (20 calls each), so
# a shared machine's load falls on both alike, and prints per benchmark the
# median ns/op and cpu-ms/op of each and their ratio, with the load average
# seen; ratios are old/new (above 1: new is faster). cpu-ms/op (all
# threads, from faf083a on) is what other jobs inflate least.
# Usage: bench/vision/ab.sh OLD [NEW [ROUNDS]]   (NEW defaults to the work
# tree; needs the shared data: $DLCV_SHARED or ../shared)
set -eu
cd "$(dirname "$0")/../.."
old=$1
new=${2:-}
rounds=${3:-5}
export DLCV_SHARED=${DLCV_SHARED:-$(cd .. && pwd)/shared}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
build() { # build REV NAME: REV "" is the work tree
	if [ -z "$1" ]; then
		go test -c -o "$dir/$2.test" ./annotate
		return
	fi
	git worktree add -q --detach "$dir/$2" "$1"
	(cd "$dir/$2" && go test -c -o "$dir/$2.test" ./annotate)
	git worktree remove --force "$dir/$2"
}
build "$old" old
build "$new" new
for r in $(seq "$rounds"); do
	for b in old new; do
		echo "# load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?)"
		(cd annotate && "$dir/$b.test" -test.run '^$' -test.bench 'Objects640|SafeSearch640|Faces640' -test.benchtime 20x) |
			grep '^Benchmark' | sed "s/^/$b /"
	done
done >"$dir/runs.txt"
awk '
/^# load/ { loads[nl++] = $3; next }
{ name = $2; sub(/-[0-9]+$/, "", name); key = name " " $1
  ns[key, ++n[key]] = $4 / 1e6
  for (i = 5; i < NF; i++) if ($(i+1) == "cpu-ms/op") cpu[key, n[key]] = $i
  names[name] = 1 }
function median(a, key, k,   v, i, j, t) {
	for (i = 1; i <= k; i++) v[i] = a[key, i]
	for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
	return k % 2 ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
}
END {
	printf "%-22s %12s %12s %12s %12s %8s %8s\n", "benchmark", "old ms", "new ms", "old cpu-ms", "new cpu-ms", "ms", "cpu"
	for (name in names) {
		o = name " old"; w = name " new"
		mo = median(ns, o, n[o]); mn = median(ns, w, n[w]); co = median(cpu, o, n[o]); cn = median(cpu, w, n[w])
		printf "%-22s %12.1f %12.1f %12.1f %12.1f %7.2fx %7s\n", name, mo, mn, co, cn, mo / mn, (cn > 0 ? sprintf("%.2fx", co / cn) : "-")
	}
	min = max = loads[0]
	for (i = 1; i < nl; i++) { if (loads[i] < min) min = loads[i]; if (loads[i] > max) max = loads[i] }
	printf "medians of %d runs of 20 calls each; load average %s to %s\n", n[o], min, max
}' "$dir/runs.txt"
