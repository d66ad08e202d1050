package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/data"
)

// DatasetInfo describes a dataset dlcv knows by name.
type DatasetInfo struct {
	Name        string
	Description string
	// Input is the image shape (H, W, C) the dataset comes in.
	Input []int
	// HasTestSet: the dataset has an official test split.
	HasTestSet bool
}

// Datasets lists the named datasets. Any folder with one sub-folder per
// class works too (pass its path).
var Datasets = []DatasetInfo{
	{Name: "mnist", Description: "handwritten digits 0-9: 60,000 train + 10,000 test, 28x28 grayscale (GoMNIST module, cache, or download)", Input: []int{28, 28, 1}, HasTestSet: true},
	{Name: "fashion-mnist", Description: "Zalando's Fashion-MNIST, 10 kinds of clothing (T-shirt/top ... Ankle boot): 60,000 train + 10,000 test, 28x28 grayscale; from $DLCV_HOME/datasets/fashion-mnist, Debian's dataset-fashion-mnist, or --download (30 MB); fashion-mnist:PATH for a copy of one's own", Input: []int{28, 28, 1}, HasTestSet: true},
	{Name: "cifar10", Description: "CIFAR-10, 10 classes of objects (airplane ... truck): 50,000 train + 10,000 test, 32x32 RGB, binary version; from $DLCV_HOME/datasets/cifar10 or --download (162 MB); cifar10:PATH for an extracted cifar-10-batches-bin", Input: []int{32, 32, 3}, HasTestSet: true},
	{Name: "cifar100", Description: "CIFAR-100, 100 classes (fine labels): 50,000 train + 10,000 test, 32x32 RGB, binary version; from $DLCV_HOME/datasets/cifar100 or --download (161 MB); cifar100:PATH for an extracted cifar-100-binary", Input: []int{32, 32, 3}, HasTestSet: true},
	{Name: "smiles", Description: "SMILEsmileD faces: 9,475 not_smiling + 3,690 smiling, 64x64 grayscale, resized to 28x28, 20% test split; smiles:PATH or $DLCV_SMILES names a clone of github.com/hromi/SMILEsmileD", Input: []int{64, 64, 1}},
}

// Loaded is a dataset ready for training: Train to fit, Val (nil without
// a validation split) to choose epochs, checkpoints and settings on, Test
// to report on once at the end.
type Loaded struct {
	Train, Val, Test *data.Dataset
	Preprocess       data.Preprocess
	Skipped          []data.Skipped
}

// LoadOptions say how to load and split.
type LoadOptions struct {
	// Dataset is a name from Datasets or a folder path.
	Dataset string
	// Preprocess is used for image folders; Width/Height/Channels zero
	// take the defaults given to Load.
	Preprocess data.Preprocess
	// TestSplit is the test fraction. Zero means: the dataset's own test
	// set when it has one, else data.DefaultTestFraction. For a dataset
	// with a test set, a non-zero TestSplit pools both and re-splits (the
	// classic 70,000 -> 52,500 / 17,500 MNIST split at 0.25).
	TestSplit float64
	// ValSplit is the fraction of the training part held out for
	// validation (stratified, seeded, as Keras' validation_split); zero
	// means no validation set. The test set is split off first, so it is
	// the same whatever ValSplit is.
	ValSplit float64
	Seed     uint64
	// Limit keeps a stratified random subset of at most Limit training
	// images (and Limit/4 test images), for quick runs. Zero keeps all.
	Limit   int
	SkipBad bool
	// Offline forbids downloads.
	Offline bool
	// Download allows fetching a named dataset other than MNIST
	// (fashion-mnist, cifar10, cifar100) that is not on this machine,
	// checksum-verified; without it they are never downloaded. (MNIST is
	// downloaded unless Offline, as before.)
	Download bool
	Log      io.Writer
}

// Load loads and splits a dataset. def is the input shape (H, W, C) used
// when opts.Preprocess does not set one.
func Load(opts LoadOptions, def []int) (*Loaded, error) {
	if opts.TestSplit < 0 || opts.TestSplit >= 1 {
		return nil, fmt.Errorf("test split %v must be in [0, 1)", opts.TestSplit)
	}
	if !(opts.ValSplit >= 0 && opts.ValSplit < 1) {
		return nil, fmt.Errorf("validation split %v must be in [0, 1)", opts.ValSplit)
	}
	name := opts.Dataset
	if name == "" {
		name = "mnist"
	}
	var l *Loaded
	var err error
	lower := strings.ToLower(name)
	switch {
	case lower == "mnist":
		l, err = loadMNIST(opts)
	case namedSource(lower) != nil:
		l, err = loadNamed(name, opts)
	case lower == "smiles" || strings.HasPrefix(lower, "smiles:") || data.IsSmilesDir(name):
		l, err = loadSmiles(name, opts, def)
	case data.IsIDXPath(name):
		l, err = loadIDXFolder(name, opts)
	default:
		l, err = loadFolder(name, opts, def)
	}
	if err != nil {
		return nil, err
	}
	if opts.Limit > 0 {
		if l.Train, err = subset(l.Train, opts.Limit, opts.Seed); err != nil {
			return nil, err
		}
		if l.Test, err = subset(l.Test, max(opts.Limit/4, len(l.Test.Classes)), opts.Seed+1); err != nil {
			return nil, err
		}
	}
	if opts.ValSplit > 0 {
		// Its own stream: the validation images do not depend on how the
		// test split was drawn.
		if l.Train, l.Val, err = data.Split(l.Train, opts.ValSplit, opts.Seed^0x7a11da7e); err != nil {
			return nil, fmt.Errorf("validation split: %w", err)
		}
		if l.Val.Len() == 0 || l.Train.Len() == 0 {
			return nil, fmt.Errorf("validation split %v of %d training images leaves %d for validation and %d for training", opts.ValSplit, l.Train.Len()+l.Val.Len(), l.Val.Len(), l.Train.Len())
		}
	}
	return l, nil
}

func loadMNIST(opts LoadOptions) (*Loaded, error) {
	if err := checkShape("mnist", []int{28, 28, 1}, opts.Preprocess); err != nil {
		return nil, err
	}
	tr, te, err := data.LoadMNIST(data.MNISTOptions{Offline: opts.Offline})
	if err != nil {
		return nil, err
	}
	return ownTestSet("mnist", tr, te, opts)
}

// source is a dataset dlcv finds by name (data.FashionMNIST, data.CIFAR10,
// data.CIFAR100).
type source interface {
	Load(data.FindOptions) (train, test *data.Dataset, err error)
	LoadDir(dir string) (train, test *data.Dataset, err error)
	Download(context.Context, data.FindOptions) (string, error)
	Find(home string) string
}

var sources = map[string]source{"fashion-mnist": data.FashionMNIST, "cifar10": data.CIFAR10, "cifar100": data.CIFAR100}

// namedSource returns the source for "NAME" or "NAME:PATH", or nil.
func namedSource(lower string) source {
	name, _, _ := strings.Cut(lower, ":")
	return sources[name]
}

func datasetInfo(name string) *DatasetInfo {
	for i := range Datasets {
		if Datasets[i].Name == name {
			return &Datasets[i]
		}
	}
	return nil
}

// loadNamed loads "NAME" (looked for on this machine, downloaded with
// opts.Download) or "NAME:PATH" (a copy of one's own).
func loadNamed(spec string, opts LoadOptions) (*Loaded, error) {
	name, path, hasPath := strings.Cut(spec, ":")
	name = strings.ToLower(name)
	src := sources[name]
	if info := datasetInfo(name); info != nil {
		if err := checkShape(name, info.Input, opts.Preprocess); err != nil {
			return nil, err
		}
	}
	var tr, te *data.Dataset
	var err error
	switch {
	case hasPath && path == "":
		return nil, fmt.Errorf("dataset %q: want %s:PATH, PATH being a folder holding it", spec, name)
	case hasPath:
		tr, te, err = src.LoadDir(path)
	default:
		tr, te, err = src.Load(data.FindOptions{Download: opts.Download && !opts.Offline, Log: opts.Log})
		if errors.Is(err, data.ErrNotFound) {
			hint := fmt.Sprintf("get it with 'dlcv datasets pull %s' (or dlcv train --download), or pass %s:PATH", name, name)
			if name == "fashion-mnist" {
				hint += ", or apt-get install dataset-fashion-mnist"
			}
			err = fmt.Errorf("%w\n%s", err, hint)
		}
	}
	if err != nil {
		return nil, err
	}
	return ownTestSet(name, tr, te, opts)
}

// DownloadableDatasets are the names PullDataset takes.
var DownloadableDatasets = []string{"mnist", "fashion-mnist", "cifar10", "cifar100"}

// PullDataset downloads a named dataset (mnist, fashion-mnist, cifar10,
// cifar100) into $DLCV_HOME/datasets/NAME, checksum-verified, unless a
// sound copy is on this machine already, and returns its folder.
func PullDataset(ctx context.Context, name string, log io.Writer) (string, error) {
	name = strings.ToLower(name)
	home, err := data.Home()
	if err != nil {
		return "", err
	}
	if name == "mnist" {
		dir := filepath.Join(home, "datasets", "mnist")
		return dir, data.DownloadMNIST(ctx, dir, "", nil)
	}
	src := sources[name]
	if src == nil {
		return "", fmt.Errorf("unknown dataset %q (downloadable: %s)", name, strings.Join(DownloadableDatasets, ", "))
	}
	// Already here and sound (checked as a training run would load it)?
	if d := src.Find(home); d != "" {
		if _, _, err := src.Load(data.FindOptions{Home: home}); err == nil {
			return d, nil
		}
	}
	return src.Download(ctx, data.FindOptions{Home: home, Log: log})
}

// DatasetLocation says where a named dataset is on this machine ("" when
// it is not, or has no fixed place, as smiles).
func DatasetLocation(name string) string {
	home, err := data.Home()
	if err != nil {
		return ""
	}
	if name == "mnist" {
		return data.FindMNIST(home)
	}
	if src := sources[name]; src != nil {
		return src.Find(home)
	}
	return ""
}

// loadIDXFolder loads an MNIST-style folder of IDX files (or DIR/PREFIX
// for a prefixed set, as EMNIST's).
func loadIDXFolder(path string, opts LoadOptions) (*Loaded, error) {
	f, err := data.FindIDX(path)
	if err != nil {
		return nil, err
	}
	tr, te, err := data.LoadIDXFolder(f)
	if err != nil {
		return nil, err
	}
	return ownTestSet(path, tr, te, opts)
}

// checkShape refuses a preprocessing size or channel count other than a
// fixed-size dataset's (H, W, C).
func checkShape(name string, shape []int, p data.Preprocess) error {
	var bad []string
	if (p.Width != 0 && p.Width != shape[1]) || (p.Height != 0 && p.Height != shape[0]) {
		bad = append(bad, fmt.Sprintf("size %dx%d", p.Width, p.Height))
	}
	if p.Channels != 0 && p.Channels != shape[2] {
		bad = append(bad, fmt.Sprintf("%d channels", p.Channels))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s images are %dx%dx%d; %s is not supported for it (resizing is for image folders: leave --size and --channels unset)",
			name, shape[1], shape[0], shape[2], strings.Join(bad, " and "))
	}
	return nil
}

// ownTestSet finishes loading a dataset of 8-bit images that comes with
// its own test set: the preprocessing must match its shape, a mean in it
// is applied when batches are made, and a non-zero TestSplit pools both
// sets and splits them again.
func ownTestSet(name string, tr, te *data.Dataset, opts LoadOptions) (*Loaded, error) {
	shape := tr.SampleShape()
	if err := checkShape(name, shape, opts.Preprocess); err != nil {
		return nil, err
	}
	pre := data.Preprocess{Height: shape[0], Width: shape[1], Channels: shape[2]}
	if m := opts.Preprocess.Mean; len(m) > 0 {
		if len(m) != shape[2] {
			return nil, fmt.Errorf("%s: %d mean values for %d channels", name, len(m), shape[2])
		}
		pre.Mean = slices.Clone(m)
		for _, d := range []*data.Dataset{tr, te} {
			if d.U8 != nil {
				d.U8.Mean = slices.Clone(m)
			}
		}
	}
	l := &Loaded{Train: tr, Test: te, Preprocess: pre}
	if opts.TestSplit > 0 {
		all, err := data.Concat(tr, te)
		if err != nil {
			return nil, err
		}
		// Let the originals go before splitting.
		tr, te, l.Train, l.Test = nil, nil, nil, nil
		runtime.GC()
		if l.Train, l.Test, err = data.Split(all, opts.TestSplit, opts.Seed); err != nil {
			return nil, err
		}
		all = nil
		debug.FreeOSMemory()
	}
	return l, nil
}

func loadFolder(dir string, opts LoadOptions, def []int) (*Loaded, error) {
	st, err := os.Stat(dir)
	if err != nil {
		known := make([]string, len(Datasets))
		for i, d := range Datasets {
			known[i] = d.Name
		}
		return nil, fmt.Errorf("dataset %q is neither a known name (%s) nor a folder: %w", dir, strings.Join(known, ", "), err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("dataset %s is not a folder (want one sub-folder of images per class)", dir)
	}
	p := opts.Preprocess
	if p.Width == 0 {
		p.Height, p.Width = def[0], def[1]
	}
	if p.Channels == 0 {
		p.Channels = def[2]
	}
	d, skipped, err := data.LoadImageFolder(dir, data.LoadOptions{Preprocess: p, SkipBad: opts.SkipBad})
	if err != nil {
		return nil, err
	}
	frac := opts.TestSplit
	if frac == 0 {
		frac = data.DefaultTestFraction
	}
	tr, te, err := data.Split(d, frac, opts.Seed)
	if err != nil {
		return nil, err
	}
	return &Loaded{Train: tr, Test: te, Preprocess: p, Skipped: skipped}, nil
}

// subset keeps a stratified random subset of about n samples.
func subset(d *data.Dataset, n int, seed uint64) (*data.Dataset, error) {
	if n >= d.Len() {
		return d, nil
	}
	_, keep, err := data.Split(d, float64(n)/float64(d.Len()), seed)
	return keep, err
}
