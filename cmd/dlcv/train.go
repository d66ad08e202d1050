package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/dlcv-go/dlcv/pipeline"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train a network (default: LeNet on MNIST) and print its classification report",
		run:     runTrain,
	})
}

const trainExamples = `  dlcv train                                    # LeNet on MNIST, 20 epochs, report
  dlcv train --epochs 2 --limit 5000            # a quick run on a subset
  dlcv train --arch mlp --momentum 0 --lr 0.01 --epochs 100 --test-split 0.25   # the classic MLP
  dlcv train --arch minivggnet --dataset data/animals --size 32x32 --channels 3 \
             --optimizer sgd --lr 0.01 --momentum 0.9 --nesterov --epochs 40 --out runs/animals
  dlcv train --dataset fashion-mnist --download # Fashion-MNIST (Debian's dataset-fashion-mnist, or downloaded)
  dlcv train --arch resnet20 --dataset cifar10:/data/cifar-10-batches-bin --epochs 30
  dlcv train --backbone mobilenet-v2 --dataset data/animals --out runs/transfer      # transfer learning
  dlcv train --backbone mobilenet-v2 --dataset data/animals --fine-tune 3            # then fine-tune 3 blocks
  dlcv train --backbone mobilenet-v2 --dataset mnist --limit 2000                    # digits resized to 224x224 RGB per batch
  dlcv train --resume runs/mnist/checkpoint.safetensors --out runs/mnist`

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "[flags]", trainExamples, stderr)
	var o pipeline.TrainOptions
	fs.StringVar(&o.Load.Dataset, "dataset", "mnist", "dataset name (see 'dlcv datasets'), a folder with one sub-folder per class, or a folder of MNIST-style IDX files")
	size := fs.String("size", "", "image size WxH for image folders (default: the architecture's)")
	fs.IntVar(&o.Load.Preprocess.Channels, "channels", 0, "1 (grayscale) or 3 (RGB) for image folders (default: the architecture's)")
	fs.BoolVar(&o.Load.Preprocess.AspectAware, "aspect", false, "resize the shorter side and crop the centre instead of stretching")
	fs.Float64Var(&o.Load.TestSplit, "test-split", 0, "test fraction (0: the dataset's own test set, else 0.25)")
	fs.Float64Var(&o.Load.ValSplit, "val-split", 0.1, "fraction of the training part held out for validation: val_loss, val_accuracy, early stopping and checkpoints use it, never the test set (0: none)")
	fs.StringVar(&o.Arch, "arch", "lenet", "architecture: knn, softmax, mlp, shallownet, lenet, minivggnet, resnet20, resnet56, resnet18, mobilenetv2[-WIDTH] (see 'dlcv models')")
	fs.IntVar(&o.K, "k", 3, "--arch knn: neighbours that vote")
	fs.StringVar(&o.Backbone, "backbone", "", "transfer learning: a pretrained backbone (a registered name such as mobilenet-v2, or a .tflite / dlcv model file), frozen; only a new head is trained")
	fs.StringVar(&o.BackboneOutput, "backbone-output", "", "--backbone: the node whose output are the features (default: a registered model's global pool)")
	headDrop := fs.Float64("head-dropout", 0, "--backbone: dropout rate before the new head's dense layer")
	fs.IntVar(&o.FineTune, "fine-tune", 0, "--backbone: after training the head, unfreeze the backbone's last N blocks (layers grouped by name scope) and train them with the head; batch norms stay in inference mode")
	fs.IntVar(&o.FineTuneEpochs, "fine-tune-epochs", pipeline.DefaultFineTuneEpochs, "--fine-tune: epochs of fine-tuning after the head's --epochs")
	fs.Float64Var(&o.FineTuneLR, "fine-tune-lr", 0, "--fine-tune: learning rate (default 0.1 x --lr)")
	fs.StringVar(&o.Features, "features", "pixels", "--arch knn: compare images by raw pixels or colour histograms (pixels|histogram)")
	fs.IntVar(&o.Load.Limit, "limit", 0, "train on a stratified subset of this many images (0: all)")
	fs.BoolVar(&o.Load.SkipBad, "skip-bad", false, "skip unreadable images (listed) instead of failing")
	fs.BoolVar(&o.Load.Offline, "offline", false, "never download datasets")
	fs.BoolVar(&o.Load.Download, "download", false, "download a named dataset (fashion-mnist, cifar10, cifar100) not on this machine, checksum-verified")
	seed := fs.Uint64("seed", 42, "random seed (split, initialisation, shuffling, dropout, augmentation)")
	fs.IntVar(&o.Epochs, "epochs", 20, "number of epochs")
	fs.IntVar(&o.BatchSize, "batch-size", 128, "mini-batch size")
	fs.StringVar(&o.Optimizer, "optimizer", "sgd", "sgd, adam or rmsprop")
	fs.Float64Var(&o.LR, "lr", 0, "learning rate (default 0.01 for sgd, 0.001 otherwise)")
	fs.Float64Var(&o.Momentum, "momentum", 0.9, "SGD momentum (0 for plain SGD)")
	fs.BoolVar(&o.Nesterov, "nesterov", false, "SGD Nesterov momentum")
	fs.Float64Var(&o.Decay, "decay", 0, "SGD learning-rate decay: lr / (1 + decay * iterations)")
	fs.StringVar(&o.LRSchedule, "lr-schedule", "", "step:FACTOR:EVERY (e.g. step:0.5:10) or linear")
	fs.BoolVar(&o.ClassWeights, "class-weights", false, "weight classes by inverse frequency (imbalanced data)")
	augment := fs.String("augment", "", "augmentation, e.g. flip,shift=0.1,rotate=30,zoom=0.2")
	fs.IntVar(&o.EarlyStop, "early-stop", 0, "stop after N epochs without val_loss improving (0: off)")
	fs.StringVar(&o.Resume, "resume", "", "continue from a checkpoint written by an earlier run (with the same --dataset, --test-split, --seed, --limit and --batch-size)")
	fs.BoolVar(&o.Force, "force", false, "with --resume: continue even if the dataset, split, seed, limit or batch size differ from the checkpoint's")
	fs.StringVar(&o.Out, "out", "", "folder for model.safetensors, history, report and plots")
	fs.IntVar(&o.Digits, "digits", 2, "digits in the classification report")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q (flags go before it?)", fs.Arg(0))
	}
	o.Load.Seed = *seed
	if !(*headDrop >= 0 && *headDrop < 1) {
		return usageErrorf("--head-dropout %v must be in [0, 1)", *headDrop)
	}
	o.HeadDropout = float32(*headDrop)
	if o.FineTune < 0 || o.FineTuneEpochs < 1 || o.FineTuneLR < 0 {
		return usageErrorf("--fine-tune %d, --fine-tune-epochs %d and --fine-tune-lr %g: want N >= 0 blocks, at least 1 epoch, a positive rate", o.FineTune, o.FineTuneEpochs, o.FineTuneLR)
	}
	if o.FineTune > 0 && o.Backbone == "" {
		return usageErrorf("--fine-tune needs --backbone (a pretrained network to fine-tune)")
	}
	if *size != "" {
		var err error
		if o.Load.Preprocess.Width, o.Load.Preprocess.Height, err = parseWxH(*size); err != nil {
			return usageErrorf("--size %v", err)
		}
	}
	if *augment != "" {
		a, err := pipeline.ParseAugment(*augment)
		if err != nil {
			return usageErrorf("--augment: %v", err)
		}
		o.Augment = a
	}
	stop := onInterrupt(stderr, func() string { return interruptHint(args, o.Out) })
	defer stop()
	return trainAndReport(o, *quiet, stdout, stderr)
}

// onInterrupt, until stop is called, answers Ctrl-C (or SIGTERM) by
// printing hint() and exiting 130. Exiting mid-epoch is safe: checkpoints
// are written atomically, and a later run removes a half-written one.
func onInterrupt(stderr io.Writer, hint func() string) (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			fmt.Fprintf(stderr, "\n[INFO] interrupted. %s\n", hint())
			os.Exit(130)
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// interruptHint says how to continue an interrupted 'dlcv train' run: the
// same command line with --resume pointing at the last epoch's checkpoint.
func interruptHint(args []string, out string) string {
	if out == "" {
		return "No checkpoint was kept: pass --out DIR to be able to continue a run with --resume."
	}
	ck := filepath.Join(out, "checkpoint.safetensors")
	if _, err := os.Stat(ck); err != nil {
		return fmt.Sprintf("No epoch had finished (or this kind of run keeps no checkpoint): nothing in %s to resume from.", out)
	}
	cmd := []string{"dlcv", "train"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--resume" || a == "-resume" {
			i++ // replaced below
			continue
		}
		if strings.HasPrefix(a, "--resume=") || strings.HasPrefix(a, "-resume=") {
			continue
		}
		cmd = append(cmd, shellQuote(a))
	}
	cmd = append(cmd, "--resume", shellQuote(ck))
	return "Continue from the last finished epoch with:\n  " + strings.Join(cmd, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == ',' || r == '+' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// maxSide bounds each side of an image size given on the command line,
// as model files bound input shapes.
const maxSide = 1 << 16

// parseWxH reads an image size such as 32x32 (WIDTHxHEIGHT, sides 1 to
// 65536); nothing may follow it.
func parseWxH(v string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(v)), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if ok && strings.Count(v, "x")+strings.Count(v, "X") == 2 {
		return 0, 0, fmt.Errorf("%q: --size is WIDTHxHEIGHT only (e.g. 32x32); give the channels with --channels", v)
	}
	if !ok || err != nil || w < 1 || h < 1 || w > maxSide || h > maxSide || strings.HasPrefix(ws, "+") || strings.HasPrefix(hs, "+") {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT, e.g. 32x32, each side 1 to %d", v, maxSide)
	}
	return w, h, nil
}

// trainAndReport runs the pipeline with progress (unless quiet) and prints
// the classification report and the files written.
func trainAndReport(o pipeline.TrainOptions, quiet bool, stdout, stderr io.Writer) error {
	o.Log = stderr
	if quiet {
		o.Log = io.Discard
	} else {
		o.Progress = progressWriter(stdout, stderr)
	}
	res, err := pipeline.Train(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.ReportText)
	for _, f := range res.Files {
		fmt.Fprintf(stderr, "[INFO] wrote %s\n", f)
	}
	return nil
}

// progressWriter shows progress on stderr when it is a terminal, else on
// stdout as one line per epoch so that logs keep the training curve.
func progressWriter(stdout, stderr io.Writer) io.Writer {
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return stderr
		}
	}
	return stdout
}
