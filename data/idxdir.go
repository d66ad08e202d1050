package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IDXNames are the four files of an MNIST-style dataset, as MNIST,
// Fashion-MNIST and KMNIST name them (EMNIST puts a prefix such as
// "emnist-balanced-" before each): train images, train labels, test
// images, test labels. Each may be gzipped (NAME.gz) or not.
var IDXNames = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// ClassNamesFile is the optional file beside an IDX dataset's files that
// names its classes, one per line in label order.
const ClassNamesFile = "labels.txt"

// IDXFolder is an MNIST-style dataset found in a folder.
type IDXFolder struct {
	Dir string
	// Prefix is what stands before each of IDXNames in the file names:
	// "" or, for EMNIST, e.g. "emnist-balanced-".
	Prefix string
	// Files are the names, in Dir, of the train images, train labels,
	// test images and test labels (IDXNames order).
	Files [4]string
	// Labels is the class names file in Dir (Prefix+"labels.txt", else
	// "labels.txt"); "" when there is none.
	Labels string
}

// idxPrefixOK reports whether p can stand before one of IDXNames: empty,
// or ending in '-', '_' or '.'.
func idxPrefixOK(p string) bool {
	return p == "" || strings.ContainsAny(p[len(p)-1:], "-_.")
}

// MatchIDX picks an MNIST-style dataset's files among names, the entries
// of folder dir (dir is only used in messages). With prefix "" it takes
// the files without a prefix, else the one prefixed set there is; with a
// prefix (e.g. "emnist-balanced", as in DIR/emnist-balanced) the set with
// that prefix. When a file is there gzipped and not, the .gz is used.
// Errors name the folder and what is missing or ambiguous.
func MatchIDX(dir string, names []string, prefix string) (*IDXFolder, error) {
	// groups[p][role] lists the files for each role of prefix p.
	groups := map[string]*[4][]string{}
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
		base := strings.TrimSuffix(n, ".gz")
		for r, role := range IDXNames {
			p, ok := strings.CutSuffix(base, role)
			if !ok || !idxPrefixOK(p) {
				continue
			}
			g := groups[p]
			if g == nil {
				g = new([4][]string)
				groups[p] = g
			}
			g[r] = append(g[r], n)
		}
	}
	keys := make([]string, 0, len(groups))
	for p := range groups {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	var pick string
	switch {
	case prefix != "":
		found := false
		for _, p := range keys {
			if p == prefix || strings.TrimRight(p, "-_.") == prefix {
				pick, found = p, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("data: %s holds no IDX files named %s-%s[.gz] (%s)", dir, prefix, IDXNames[0], describeGroups(keys))
		}
	case len(keys) == 0:
		return nil, fmt.Errorf("data: %s holds no IDX files (want %s[.gz], %s[.gz], %s[.gz] and %s[.gz])", dir, IDXNames[0], IDXNames[1], IDXNames[2], IDXNames[3])
	case groups[""] != nil:
		pick = ""
	case len(keys) == 1:
		pick = keys[0]
	default:
		var opts []string
		for _, p := range keys {
			opts = append(opts, filepath.Join(dir, strings.TrimRight(p, "-_.")))
		}
		return nil, fmt.Errorf("data: %s holds %d IDX datasets; name one: %s", dir, len(keys), strings.Join(opts, ", "))
	}
	g := groups[pick]
	f := &IDXFolder{Dir: dir, Prefix: pick}
	var missing []string
	for r := range IDXNames {
		c := g[r]
		switch len(c) {
		case 0:
			missing = append(missing, pick+IDXNames[r]+"[.gz]")
			continue
		case 1:
			f.Files[r] = c[0]
		default: // NAME and NAME.gz
			f.Files[r] = c[0]
			for _, n := range c {
				if strings.HasSuffix(n, ".gz") {
					f.Files[r] = n
				}
			}
		}
	}
	if len(missing) > 0 {
		set := "the IDX dataset"
		if pick != "" {
			set = "IDX dataset " + strings.TrimRight(pick, "-_.")
		}
		return nil, fmt.Errorf("data: %s: %s lacks %s", dir, set, strings.Join(missing, ", "))
	}
	for _, l := range []string{pick + ClassNamesFile, ClassNamesFile} {
		if present[l] {
			f.Labels = l
			break
		}
	}
	return f, nil
}

func describeGroups(keys []string) string {
	if len(keys) == 0 {
		return "it holds none"
	}
	var s []string
	for _, p := range keys {
		if p == "" {
			s = append(s, "unprefixed")
		} else {
			s = append(s, strings.TrimRight(p, "-_."))
		}
	}
	return "it holds: " + strings.Join(s, ", ")
}

// FindIDX finds an MNIST-style dataset at path: a folder holding the four
// files (see MatchIDX), or DIR/PREFIX naming the set of prefixed files
// PREFIX-train-images-idx3-ubyte[.gz] ... in DIR (EMNIST's layout).
func FindIDX(path string) (*IDXFolder, error) {
	dir, prefix := path, ""
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.IsDir():
		return nil, fmt.Errorf("data: %s is a file, not a folder of IDX files", path)
	case err != nil:
		parent := filepath.Dir(path)
		if pst, perr := os.Stat(parent); perr != nil || !pst.IsDir() {
			return nil, fmt.Errorf("data: IDX dataset: %w", err)
		}
		dir, prefix = parent, filepath.Base(path)
	}
	names, err := dirNames(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("data: IDX dataset: %s: %w", dir, err)
	}
	return MatchIDX(dir, names, prefix)
}

// IsIDXPath reports whether path names an MNIST-style dataset, complete or
// not: a folder with at least one of the IDX files, or DIR/PREFIX with
// such files prefixed. (FindIDX says what is missing.)
func IsIDXPath(path string) bool {
	dir, prefix := path, ""
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		if err == nil {
			return false
		}
		dir, prefix = filepath.Dir(path), filepath.Base(path)
	}
	names, err := dirNames(os.DirFS(dir), ".")
	if err != nil {
		return false
	}
	for _, n := range names {
		base := strings.TrimSuffix(n, ".gz")
		for _, role := range IDXNames {
			if p, ok := strings.CutSuffix(base, role); ok && idxPrefixOK(p) && (prefix == "" || strings.TrimRight(p, "-_.") == prefix) {
				return true
			}
		}
	}
	return false
}

// dirNames lists the names of the regular files (or links) in dir of fsys.
func dirNames(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, unwrapPath(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// LoadIDXFolder loads an MNIST-style dataset found by FindIDX (or
// MatchIDX): 8-bit images (N,H,W,1) from (N,H,W) files, or (N,H,W,C)
// from rank-4 ones with 1 or 3 channels; the class names from the
// Labels file, whose count must match the labels (0..max), else
// "0".."max".
func LoadIDXFolder(f *IDXFolder) (train, test *Dataset, err error) {
	return loadIDX(os.DirFS(f.Dir), f, nil, "", nil)
}

// readIDXFS reads an IDX file of fsys; errors name it as path shows it.
func readIDXFS(fsys fs.FS, name, path string) (*IDX, error) {
	fh, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("idx: %s: %w", path, unwrapPath(err))
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("idx: %s: %w", path, unwrapPath(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("idx: %s is a folder", path)
	}
	return DecodeIDX(path, bufio.NewReaderSize(fh, 1<<16), st.Size())
}

// loadIDX reads f's four files from fsys (f.Dir is only used in
// messages). classes, when set, are the dataset's fixed class names (the
// labels must index them; f.Labels is ignored); what names the dataset in
// errors ("" for a plain IDX folder); sums, when set, are the SHA-256s the
// files' uncompressed contents must have (idxSHA256).
func loadIDX(fsys fs.FS, f *IDXFolder, classes []string, what string, sums *[4]string) (train, test *Dataset, err error) {
	path := func(name string) string { return filepath.Join(f.Dir, name) }
	errf := func(format string, args ...any) error {
		if what != "" {
			return fmt.Errorf("data: "+what+": "+format, args...)
		}
		return fmt.Errorf("data: "+format, args...)
	}
	var parts [4]*IDX
	for i, name := range f.Files {
		if parts[i], err = readIDXFS(fsys, name, path(name)); err != nil {
			if what != "" {
				return nil, nil, fmt.Errorf("data: %s: %w", what, err)
			}
			return nil, nil, fmt.Errorf("data: %w", err)
		}
		if sums != nil {
			if got := idxSHA256(parts[i]); got != sums[i] {
				return nil, nil, errf("%s: content SHA-256 %s, want %s (not the published file)", path(name), got, sums[i])
			}
		}
	}
	var shape []int // H, W, C
	maxLabel := -1
	for s := 0; s < 4; s += 2 {
		im, lb := parts[s], parts[s+1]
		imName, lbName := path(f.Files[s]), path(f.Files[s+1])
		var sh []int
		switch len(im.Dims) {
		case 3:
			sh = []int{im.Dims[1], im.Dims[2], 1}
		case 4:
			sh = im.Dims[1:]
		default:
			return nil, nil, errf("%s has dimensions %v, want (N,H,W) images", imName, im.Dims)
		}
		if im.Dims[0] == 0 || sh[0] == 0 || sh[1] == 0 {
			return nil, nil, errf("%s has dimensions %v: no images", imName, im.Dims)
		}
		if sh[2] != 1 && sh[2] != 3 {
			return nil, nil, errf("%s has dimensions %v: %d channels, want 1 or 3", imName, im.Dims, sh[2])
		}
		if shape == nil {
			shape = sh
		} else if !slices.Equal(shape, sh) {
			return nil, nil, errf("%s holds %v images, %s holds %v", imName, sh, path(f.Files[0]), shape)
		}
		if len(lb.Dims) != 1 || lb.Dims[0] != im.Dims[0] {
			return nil, nil, errf("%s has dimensions %v, want (%d) to match the %d images of %s", lbName, lb.Dims, im.Dims[0], im.Dims[0], imName)
		}
		for i, v := range lb.Data {
			if classes != nil && int(v) >= len(classes) {
				return nil, nil, errf("%s: label %d of image %d is out of range: %d classes (0..%d)", lbName, v, i, len(classes), len(classes)-1)
			}
			maxLabel = max(maxLabel, int(v))
		}
	}
	if classes == nil {
		if f.Labels != "" {
			if classes, err = readClassNames(fsys, f.Labels, path(f.Labels)); err != nil {
				return nil, nil, err
			}
			if len(classes) != maxLabel+1 {
				return nil, nil, errf("%s names %d classes, but the labels of %s and %s go from 0 to %d: want %d names, one per line", path(f.Labels), len(classes), f.Files[1], f.Files[3], maxLabel, maxLabel+1)
			}
		} else {
			classes = numberedClasses(maxLabel + 1)
		}
	}
	ds := [2]*Dataset{}
	for k := range ds {
		im, lb := parts[2*k], parts[2*k+1]
		y := make([]int, len(lb.Data))
		for i, v := range lb.Data {
			y[i] = int(v)
		}
		ds[k] = &Dataset{U8: &Uint8Images{Shape: append([]int{im.Dims[0]}, shape...), Pix: im.Data}, Y: y, Classes: slices.Clone(classes)}
	}
	return ds[0], ds[1], nil
}

// idxSHA256 is the SHA-256 of x as an uncompressed IDX file of unsigned
// bytes (`zcat FILE.gz | sha256sum`): it identifies the content however
// the file is compressed.
func idxSHA256(x *IDX) string {
	h := sha256.New()
	h.Write([]byte{0, 0, 0x08, byte(len(x.Dims))})
	for _, d := range x.Dims {
		binary.Write(h, binary.BigEndian, uint32(d))
	}
	h.Write(x.Data)
	return hex.EncodeToString(h.Sum(nil))
}
