package pipeline

import (
	"fmt"
	"os"
	"strings"

	"github.com/dlcv-go/dlcv/data"
)

// SmilesEnv names the environment variable that holds the path of a
// SMILEsmileD checkout for the dataset name "smiles".
const SmilesEnv = "DLCV_SMILES"

// SmilesTestSplit is the smiles dataset's default test fraction (it has
// no official test set).
const SmilesTestSplit = 0.2

// SmilesPath resolves the smiles dataset's location from a dataset
// argument: "smiles:PATH" gives PATH, "smiles" the value of $DLCV_SMILES,
// anything else is taken as the path itself.
func SmilesPath(dataset string) (string, error) {
	lower := strings.ToLower(dataset)
	switch {
	case strings.HasPrefix(lower, "smiles:"):
		if p := dataset[len("smiles:"):]; p != "" {
			return p, nil
		}
		return "", fmt.Errorf("dataset %q: want smiles:PATH, PATH being a clone of https://github.com/hromi/SMILEsmileD", dataset)
	case lower == "smiles":
		if p := os.Getenv(SmilesEnv); p != "" {
			return p, nil
		}
		return "", fmt.Errorf("dataset smiles: set $%s to a clone of https://github.com/hromi/SMILEsmileD (git clone https://github.com/hromi/SMILEsmileD) or pass smiles:PATH", SmilesEnv)
	}
	return dataset, nil
}

// loadSmiles loads a SMILEsmileD checkout (data.LoadSmiles) and splits it
// stratified, SmilesTestSplit by default. Without an interpolation set,
// faces are shrunk by area averaging (data.SmilesPreprocess).
func loadSmiles(name string, opts LoadOptions, def []int) (*Loaded, error) {
	dir, err := SmilesPath(name)
	if err != nil {
		return nil, err
	}
	p := opts.Preprocess
	if p.Width == 0 {
		p.Height, p.Width = def[0], def[1]
	}
	if p.Channels == 0 {
		p.Channels = def[2]
	}
	if p.Interpolation == "" {
		p.Interpolation = data.SmilesPreprocess.Interpolation
	}
	d, skipped, err := data.LoadSmiles(dir, data.LoadOptions{Preprocess: p, SkipBad: opts.SkipBad})
	if err != nil {
		return nil, err
	}
	frac := opts.TestSplit
	if frac == 0 {
		frac = SmilesTestSplit
	}
	tr, te, err := data.Split(d, frac, opts.Seed)
	if err != nil {
		return nil, err
	}
	return &Loaded{Train: tr, Test: te, Preprocess: p, Skipped: skipped}, nil
}
