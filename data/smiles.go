package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SmilesClasses are the SMILEsmileD labels in label order: 0 not smiling,
// 1 smiling.
var SmilesClasses = []string{"not_smiling", "smiling"}

// SmilesPreprocess is the usual input for smile classifiers: the 64x64
// faces shrunk to 28x28 grayscale by pixel-area averaging (OpenCV's
// INTER_AREA, which the case study's imutils.resize uses), as LeNet
// takes them.
var SmilesPreprocess = Preprocess{Width: 28, Height: 28, Channels: 1, Interpolation: Area}

// smilesDirs are the SMILEsmileD folders holding the 64x64 faces of each
// class (indexed by label), relative to the SMILEs folder.
var smilesDirs = []string{
	filepath.Join("negatives", "negatives7"),
	filepath.Join("positives", "positives7"),
}

// SmilesRoot returns the SMILEs folder of a SMILEsmileD checkout: dir
// itself when it holds negatives/negatives7 and positives/positives7, or
// dir/SMILEs (dir is then the repository's root). It returns "" when dir
// has neither layout.
func SmilesRoot(dir string) string {
	for _, d := range []string{filepath.Join(dir, "SMILEs"), dir} {
		ok := true
		for _, sub := range smilesDirs {
			if st, err := os.Stat(filepath.Join(d, sub)); err != nil || !st.IsDir() {
				ok = false
				break
			}
		}
		if ok {
			return d
		}
	}
	return ""
}

// IsSmilesDir reports whether dir is a SMILEsmileD checkout (its root or
// its SMILEs folder).
func IsSmilesDir(dir string) bool { return SmilesRoot(dir) != "" }

// ListSmiles lists the images of a SMILEsmileD checkout (the public
// repository hromi/SMILEsmileD, cloned as is; dir is its root or its SMILEs
// folder): SMILEs/negatives/negatives7/*.jpg are not smiling (label 0),
// SMILEs/positives/positives7/*.jpg smiling (label 1). Files are listed in
// numeric order of their names (1.jpg, 2.jpg, ..., 10.jpg), negatives
// first; the upstream checkout has 9,475 and 3,690.
func ListSmiles(dir string) ([]Sample, []string, error) {
	root := SmilesRoot(dir)
	if root == "" {
		return nil, nil, fmt.Errorf("data: %s is not a SMILEsmileD checkout (want SMILEs/negatives/negatives7 and SMILEs/positives/positives7; git clone https://github.com/hromi/SMILEsmileD)", dir)
	}
	var samples []Sample
	for label, sub := range smilesDirs {
		d := filepath.Join(root, sub)
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, nil, fmt.Errorf("data: smiles: %w", err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && IsImageFile(e.Name()) {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			return nil, nil, fmt.Errorf("data: smiles folder %s holds no images", d)
		}
		slices.SortFunc(names, compareNumeric)
		for _, n := range names {
			samples = append(samples, Sample{Path: filepath.Join(d, n), Label: label})
		}
	}
	return samples, slices.Clone(SmilesClasses), nil
}

// compareNumeric orders file names by their numeric stem when both have
// one, else by name.
func compareNumeric(a, b string) int {
	na, ea := strconv.Atoi(strings.TrimSuffix(a, filepath.Ext(a)))
	nb, eb := strconv.Atoi(strings.TrimSuffix(b, filepath.Ext(b)))
	switch {
	case ea == nil && eb == nil && na != nb:
		if na < nb {
			return -1
		}
		return 1
	case ea == nil && eb != nil:
		return -1
	case ea != nil && eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// LoadSmiles loads a SMILEsmileD checkout (see ListSmiles) with opts; a
// zero opts.Preprocess means SmilesPreprocess (28x28 grayscale).
func LoadSmiles(dir string, opts LoadOptions) (*Dataset, []Skipped, error) {
	samples, classes, err := ListSmiles(dir)
	if err != nil {
		return nil, nil, err
	}
	if opts.Preprocess.Width == 0 && opts.Preprocess.Height == 0 && opts.Preprocess.Channels == 0 {
		opts.Preprocess = SmilesPreprocess
	}
	return LoadImages(samples, classes, opts)
}
