#!/usr/bin/env bash
# The smile model's configuration chosen on validation, not on test
# (issue 14's protocol): trains the configurations of docs/smiles.md's
# table under `dlcv smiles train`'s default split (--val-split 0.1 of the
# training part held out; the 20% test split scored once, after the last
# epoch), prints each run's last-epoch val_accuracy and test accuracy,
# and names the configuration with the best validation accuracy. Long
# (4-7 minutes a run on an idle 2-core machine); not CI.
#
#   DLCV_SMILES=<SMILEsmileD clone> bench/smiles/select.sh [RUN ...]   # run numbers of the table, default 2-20
#
# Run 1 of the table used the generic folder loader and another file
# order, so it is not comparable and not listed.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-out/smiles-select}
SHARED=${DLCV_SHARED:-../shared}
export DLCV_SMILES=${DLCV_SMILES:-$SHARED/data/SMILEsmileD}
mkdir -p "$OUT"
go build -o "$OUT/dlcv" ./cmd/dlcv

aug1=flip,shift=0.1,rotate=10,zoom=0.1
aug2=flip,shift=0.05,rotate=5
vgg="--double-conv --conv 32,64 --batch-norm"
declare -A cfg=(
	[2]="--dense 500"
	[3]=""
	[4]="--optimizer sgd --lr 0.01 --momentum 0.9"
	[5]="--augment flip"
	[6]="--batch-norm"
	[7]="--dropout 0.5 --augment flip --lr-schedule linear"
	[8]="--batch-norm --augment $aug1 --lr-schedule linear --epochs 25"
	[9]="--class-weights=false --augment flip --lr-schedule linear"
	[10]="--conv 32,64 --batch-norm --augment $aug1 --lr-schedule linear --epochs 25"
	[11]="--conv 32,64 --batch-norm --augment $aug2 --lr-schedule linear --epochs 25"
	[12]="--conv 32,64 --augment $aug1 --lr-schedule linear --epochs 25"
	[13]="--conv 32,64 --batch-norm --augment $aug2 --lr-schedule linear --epochs 40"
	[14]="$vgg --dense 64 --augment $aug1 --lr-schedule linear --epochs 20"
	[15]="$vgg --dense 128 --dropout 0.5 --size 32x32 --augment $aug1 --lr-schedule linear --epochs 20"
	[16]="$vgg --dense 128 --augment $aug2 --lr-schedule linear --epochs 25"
	[17]="$vgg --dense 64 --augment $aug1 --optimizer sgd --lr 0.01 --momentum 0.9 --lr-schedule step:0.5:5 --epochs 20"
	[18]="$vgg --dense 128 --size 32x32 --augment $aug1 --lr-schedule linear --epochs 20"
	[19]="$vgg --dense 128 --dropout 0.5 --size 32x32 --augment $aug2 --lr-schedule linear --epochs 25"
	[20]="$vgg --dense 128 --dropout 0.5 --augment $aug1 --lr-schedule linear --epochs 20"
)
runs=("$@")
((${#runs[@]})) || runs=($(seq 2 20))

best= bestval=0
printf '%-4s %-10s %-10s %-8s %s\n' run val_acc test_acc wall_s load
for r in "${runs[@]}"; do
	[[ -v cfg[$r] ]] || { echo "no run $r (2-20)" >&2; exit 2; }
	load=$(cut -d' ' -f1 /proc/loadavg)
	# shellcheck disable=SC2086 # the flags are words
	/usr/bin/time -f '%e' -o "$OUT/$r.time" "$OUT/dlcv" smiles train ${cfg[$r]} --digits 4 --out "$OUT/run$r" \
		>"$OUT/$r.out" 2>"$OUT/$r.err" || { echo "run $r: FAILED (see $OUT/$r.err)"; continue; }
	val=$(grep -o 'val_accuracy: [0-9.]*' "$OUT/$r.out" "$OUT/$r.err" | tail -n 1 | awk '{print $2}')
	test=$(grep -E '^ +accuracy' "$OUT/$r.out" "$OUT/$r.err" | tail -n 1 | awk '{print $(NF-1)}')
	printf '%-4s %-10s %-10s %-8s %s\n' "$r" "$val" "$test" "$(cat "$OUT/$r.time")" "$load"
	if [[ -n $val ]] && (($(echo "$val > $bestval" | bc))); then
		best=$r bestval=$val
	fi
done
echo "chosen on validation: run $best (val_accuracy $bestval); its test accuracy is the honest estimate"
