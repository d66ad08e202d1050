package main

import (
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/pipeline"
	"github.com/dlcv-go/dlcv/smiles"
)

func init() {
	register(&command{
		name:    "smiles",
		summary: "smile detection case study: train on SMILEsmileD, find smiling faces in photos",
		run:     runSmiles,
	})
}

const smilesUsage = `Usage: dlcv smiles train [flags]     train the smile classifier on SMILEsmileD
       dlcv smiles detect PHOTO|DIR... [flags]
                                    find faces and say whether each one smiles

Run 'dlcv smiles train --help' or 'dlcv smiles detect --help' for flags.
`

func runSmiles(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("want a sub-command: train or detect")
	}
	switch args[0] {
	case "train":
		return runSmilesTrain(args[1:], stdout, stderr)
	case "detect":
		return runSmilesDetect(args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stderr, smilesUsage)
		return flag.ErrHelp
	}
	return usageErrorf("unknown sub-command %q (use train or detect)", args[0])
}

const smilesTrainExamples = `  git clone https://github.com/hromi/SMILEsmileD
  dlcv smiles train --data SMILEsmileD --out runs/smiles      # the case study: LeNet, 15 epochs
  DLCV_SMILES=SMILEsmileD dlcv smiles train --epochs 2 --limit 2000 --out runs/quick
  dlcv smiles train --data SMILEsmileD --dense 500 --optimizer sgd --lr 0.01 --out runs/lenet
  dlcv smiles train --data SMILEsmileD --double-conv --conv 32,64 --batch-norm --dense 128 \
                    --dropout 0.5 --size 32x32 --augment flip,shift=0.05,rotate=5 \
                    --lr-schedule linear --epochs 25                 # the shipped model's recipe`

func runSmilesTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("smiles train", "[flags]", smilesTrainExamples, stderr)
	def := smiles.TrainOptions("", smiles.DefaultNet)
	dir := fs.String("data", "", "SMILEsmileD checkout `PATH` (its root or its SMILEs folder; default $"+pipeline.SmilesEnv+")")
	conv := fs.String("conv", "20,50", "filters of LeNet's two convolutions (with --double-conv: of the two blocks)")
	double := fs.Bool("double-conv", false, "VGG-style blocks: two 3x3 convolutions before each pooling instead of one 5x5")
	dense := fs.Int("dense", smiles.DefaultNet.Dense, "units of LeNet's hidden dense layer (500: the original LeNet)")
	bn := fs.Bool("batch-norm", smiles.DefaultNet.BatchNorm, "batch normalisation after each hidden layer")
	dropout := fs.Float64("dropout", float64(smiles.DefaultNet.Dropout), "dropout rate before the last dense layer (0: none)")
	size := fs.String("size", "28x28", "face size WxH the network sees")
	fs.Float64Var(&def.Load.TestSplit, "test-split", def.Load.TestSplit, "test fraction, stratified")
	fs.Float64Var(&def.Load.ValSplit, "val-split", 0.1, "fraction of the training part held out for validation (epochs and settings are chosen on it, never on the test set; 0: none)")
	fs.IntVar(&def.Load.Limit, "limit", 0, "train on a stratified subset of this many images (0: all)")
	fs.BoolVar(&def.Load.SkipBad, "skip-bad", false, "skip unreadable images (listed) instead of failing")
	seed := fs.Uint64("seed", def.Load.Seed, "random seed (split, initialisation, shuffling, augmentation)")
	fs.IntVar(&def.Epochs, "epochs", def.Epochs, "number of epochs")
	fs.IntVar(&def.BatchSize, "batch-size", def.BatchSize, "mini-batch size")
	fs.StringVar(&def.Optimizer, "optimizer", def.Optimizer, "sgd, adam or rmsprop")
	lr := fs.Float64("lr", 0, "learning rate (default 0.001 for adam and rmsprop, 0.01 for sgd)")
	fs.Float64Var(&def.Momentum, "momentum", 0, "SGD momentum")
	fs.BoolVar(&def.Nesterov, "nesterov", false, "SGD Nesterov momentum")
	fs.StringVar(&def.LRSchedule, "lr-schedule", "", "step:FACTOR:EVERY (e.g. step:0.5:5) or linear")
	fs.BoolVar(&def.ClassWeights, "class-weights", def.ClassWeights, "weight classes by inverse training frequency (--class-weights=false: off)")
	augment := fs.String("augment", "", "augmentation, e.g. shift=0.1,rotate=10,zoom=0.1,flip")
	fs.IntVar(&def.EarlyStop, "early-stop", 0, "stop after N epochs without val_loss improving (0: off)")
	fs.StringVar(&def.Out, "out", "runs/smiles", "`DIR` for model.safetensors, report, history and plots")
	fs.IntVar(&def.Digits, "digits", 4, "digits in the classification report")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q (the data folder goes in --data)", fs.Arg(0))
	}
	if *dense < 1 {
		return usageErrorf("--dense %d must be positive", *dense)
	}
	if !(*dropout >= 0 && *dropout < 1) {
		return usageErrorf("--dropout %v must be in [0, 1)", *dropout)
	}
	net := smiles.Net{Dense: *dense, BatchNorm: *bn, Dropout: float32(*dropout), DoubleConv: *double}
	if _, err := fmt.Sscanf(*conv, "%d,%d", &net.Conv[0], &net.Conv[1]); err != nil || net.Conv[0] < 1 || net.Conv[1] < 1 {
		return usageErrorf("--conv %q: want two filter counts, e.g. 20,50", *conv)
	}
	o := smiles.TrainOptions(*dir, net)
	o.Load.Preprocess = def.Load.Preprocess
	var err error
	if o.Load.Preprocess.Width, o.Load.Preprocess.Height, err = parseWxH(*size); err != nil {
		return usageErrorf("--size %v", err)
	}
	o.Load.TestSplit, o.Load.ValSplit, o.Load.Limit, o.Load.SkipBad, o.Load.Seed = def.Load.TestSplit, def.Load.ValSplit, def.Load.Limit, def.Load.SkipBad, *seed
	o.Epochs, o.BatchSize, o.Optimizer, o.LR = def.Epochs, def.BatchSize, def.Optimizer, *lr
	o.Momentum, o.Nesterov, o.LRSchedule, o.ClassWeights = def.Momentum, def.Nesterov, def.LRSchedule, def.ClassWeights
	o.EarlyStop, o.Out, o.Digits = def.EarlyStop, def.Out, def.Digits
	if *augment != "" {
		a, err := pipeline.ParseAugment(*augment)
		if err != nil {
			return usageErrorf("--augment: %v", err)
		}
		o.Augment = a
	}
	if _, err := pipeline.SmilesPath(o.Load.Dataset); err != nil {
		return usageErrorf("no data: pass --data PATH or set $%s (git clone https://github.com/hromi/SMILEsmileD)", pipeline.SmilesEnv)
	}
	return trainAndReport(o, *quiet, stdout, stderr)
}

const smilesDetectExamples = `  dlcv smiles detect photo.jpg
  dlcv smiles detect frames/ --out annotated          # every image in a directory
  dlcv smiles detect a.jpg b.png --json > smiles.json
  dlcv smiles detect photo.jpg --model runs/smiles/model.safetensors --min-size 60
  dlcv smiles detect photo.jpg --cascade haarcascade_frontalface_default.xml`

// smilesResult is one photo in the --json output.
type smilesResult struct {
	File      string      `json:"file"`
	Width     int         `json:"width,omitempty"`
	Height    int         `json:"height,omitempty"`
	Faces     []smileJSON `json:"faces"`
	Annotated string      `json:"annotated,omitempty"`
	Error     string      `json:"error,omitempty"`
}

type smileJSON struct {
	X                int     `json:"x"`
	Y                int     `json:"y"`
	W                int     `json:"w"`
	H                int     `json:"h"`
	Label            string  `json:"label"`
	Probability      float64 `json:"probability"`
	SmileProbability float64 `json:"smile_probability"`
	Neighbors        int     `json:"neighbors"`
}

func runSmilesDetect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("smiles detect", "PHOTO|DIR... [--model FILE] [--cascade FILE] [--out DIR] [--json]", smilesDetectExamples, stderr)
	modelPath := fs.String("model", "", "smile classifier `FILE` written by 'dlcv smiles train' (default: the shipped model)")
	cascadePath := fs.String("cascade", "", "Haar face cascade XML `FILE` (default: "+detect.DebianCascadeDir+"/haarcascade_frontalface_default.xml from the opencv-data package)")
	minSize := fs.Int("min-size", 30, "smallest face side in pixels")
	scale := fs.Float64("scale-factor", 1.1, "size step between pyramid levels (> 1)")
	neighbors := fs.Int("min-neighbors", 3, "raw detections a face needs beyond itself (>= 1)")
	outDir := fs.String("out", "", "write annotated copies (PNG, boxes and labels) to `DIR`")
	asJSON := fs.Bool("json", false, "print JSON (one array, one object per photo) instead of text")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErrorf("want at least one PHOTO or DIR")
	}
	if !(*scale > 1) {
		return usageErrorf("--scale-factor %v must be greater than 1", *scale)
	}
	if *minSize < 0 || *neighbors < 1 {
		return usageErrorf("--min-size must not be negative and --min-neighbors must be at least 1")
	}
	photos, err := imageInputs(pos)
	if err != nil {
		return err
	}
	model, err := smiles.LoadModel(*modelPath)
	if err != nil {
		return err
	}
	path := *cascadePath
	if path == "" {
		path = detect.DefaultCascadePath()
	}
	cascade, err := detect.LoadCascade(path)
	if err != nil {
		return err
	}
	d, err := smiles.NewDetector(model, cascade, detect.Options{ScaleFactor: *scale, MinNeighbors: *neighbors, MinSize: *minSize})
	if err != nil {
		if *modelPath != "" {
			return fmt.Errorf("%s: %w", *modelPath, err)
		}
		return err
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	return eachPhoto(photos, *asJSON, stdout, stderr, "dlcv smiles detect",
		func(p string) (smilesResult, string) {
			r := smilesOne(d, p, *outDir)
			return r, r.Error
		}, printSmiles)
}

func smilesOne(d *smiles.Detector, path, outDir string) smilesResult {
	r := smilesResult{File: path, Faces: []smileJSON{}}
	img, err := detect.ReadImage(path)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	b := img.Bounds()
	r.Width, r.Height = b.Dx(), b.Dy()
	faces, err := d.Detect(img)
	if err != nil {
		r.Error = fmt.Sprintf("%s: %v", path, err)
		return r
	}
	for _, f := range faces {
		r.Faces = append(r.Faces, smileJSON{f.Box.Min.X, f.Box.Min.Y, f.Box.Dx(), f.Box.Dy(), f.Label, f.Probability, f.SmileProbability, f.Neighbors})
	}
	if outDir != "" {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + "_smiles.png"
		out := filepath.Join(outDir, name)
		f, err := os.Create(out)
		if err == nil {
			err = png.Encode(f, smiles.Annotate(img, faces))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			r.Error = fmt.Sprintf("writing %s: %v", out, err)
			return r
		}
		r.Annotated = out
	}
	return r
}

func printSmiles(w io.Writer, r smilesResult) {
	noun := "faces"
	if len(r.Faces) == 1 {
		noun = "face"
	}
	fmt.Fprintf(w, "%s: %d %s (%dx%d)\n", r.File, len(r.Faces), noun, r.Width, r.Height)
	for i, f := range r.Faces {
		fmt.Fprintf(w, "  %d: x=%d y=%d w=%d h=%d %s %.3f\n", i+1, f.X, f.Y, f.W, f.H, f.Label, f.Probability)
	}
	if r.Annotated != "" {
		fmt.Fprintf(w, "  annotated: %s\n", r.Annotated)
	}
}
