package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/internal/fetch"
)

// CIFAR image geometry: 32x32 RGB, stored as three 1024-byte planes.
const (
	cifarSide   = 32
	cifarPlane  = cifarSide * cifarSide
	cifarPixels = 3 * cifarPlane
)

// CIFAR is one of the CIFAR datasets in its binary version ("suitable for
// C programs"): fixed-size records of LabelBytes label bytes then 3072
// pixel bytes, the red, green and blue 32x32 planes, row by row.
type CIFAR struct {
	Name  string // "cifar10": also its folder, Home/datasets/NAME
	Title string // "CIFAR-10", in messages
	// LabelBytes is 1 (CIFAR-10: the label) or 2 (CIFAR-100: the coarse
	// label, 0..Coarse-1, then the fine one, which is the class).
	LabelBytes int
	Coarse     int
	// Folder is the tarball's folder holding the files.
	Folder string
	Train  []string // training batches, in order
	Test   string
	// NamesFile names the classes (one per line); Classes, the published
	// names, are used when it is absent, and give the class count.
	NamesFile string
	Classes   []string
	// Extra are the tarball's other files kept on extraction.
	Extra []string
	// URL, MD5 and Size are the official tarball's (the checksum its
	// authors publish).
	URL  string
	MD5  string
	Size int64
}

// CIFAR10 is CIFAR-10: 50,000 training and 10,000 test 32x32 colour
// images of 10 classes, from https://www.cs.toronto.edu/~kriz/cifar.html.
var CIFAR10 = &CIFAR{
	Name: "cifar10", Title: "CIFAR-10", LabelBytes: 1,
	Folder:    "cifar-10-batches-bin",
	Train:     []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
	Test:      "test_batch.bin",
	NamesFile: "batches.meta.txt",
	Classes:   []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"},
	Extra:     []string{"readme.html"},
	URL:       "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
	MD5:       "c32a1d4ab5d03f1284b67883e8d87530",
	Size:      170052171,
}

// CIFAR100 is CIFAR-100: 50,000 training and 10,000 test 32x32 colour
// images of 100 classes (fine labels; 20 coarse superclasses).
var CIFAR100 = &CIFAR{
	Name: "cifar100", Title: "CIFAR-100", LabelBytes: 2, Coarse: 20,
	Folder:    "cifar-100-binary",
	Train:     []string{"train.bin"},
	Test:      "test.bin",
	NamesFile: "fine_label_names.txt",
	Classes: []string{
		"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
		"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
		"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
		"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
		"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
		"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
		"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
		"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
		"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
		"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
	},
	Extra: []string{"coarse_label_names.txt"},
	URL:   "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
	MD5:   "03b5dce01913d631647c71ecec9e9cb8",
	Size:  168513733,
}

// maxCIFARFile bounds one batch file (1 GiB; the official ones are 30.7
// and 153.6 MB) so a bad file cannot make a loader allocate without end.
const maxCIFARFile = 1 << 30

// recordLen is the size of one record.
func (c *CIFAR) recordLen() int { return c.LabelBytes + cifarPixels }

// countRecords checks a batch file's size and returns its record count.
func (c *CIFAR) countRecords(name string, size int64) (int, error) {
	rl := int64(c.recordLen())
	switch {
	case size == 0:
		return 0, fmt.Errorf("data: %s: empty file (want %d-byte %s records)", name, rl, c.Title)
	case size > maxCIFARFile:
		return 0, fmt.Errorf("data: %s: %d bytes is too large for a %s batch (at most %d)", name, size, c.Title, maxCIFARFile)
	case size%rl != 0:
		return 0, fmt.Errorf("data: %s: truncated record: %d bytes are %d records of %d bytes (%d label + 3072 pixel bytes) and %d bytes of one more",
			name, size, size/rl, rl, c.LabelBytes, size%rl)
	}
	return int(size / rl), nil
}

// decodeInto reads n records from r into pix (n*3072 bytes, HWC) and y.
func (c *CIFAR) decodeInto(name string, r io.Reader, n int, pix []uint8, y []int) error {
	rec := make([]byte, c.recordLen())
	classes := len(c.Classes)
	for k := range n {
		if got, err := io.ReadFull(r, rec); err != nil {
			return fmt.Errorf("data: %s: truncated record %d (%d of %d bytes): %w", name, k, got, len(rec), readErr(err))
		}
		if c.LabelBytes == 2 && int(rec[0]) >= c.Coarse {
			return fmt.Errorf("data: %s: record %d: coarse label %d is out of range (%s has %d, 0..%d)", name, k, rec[0], c.Title, c.Coarse, c.Coarse-1)
		}
		label := int(rec[c.LabelBytes-1])
		if label >= classes {
			return fmt.Errorf("data: %s: record %d: label %d is out of range (%s has %d classes, 0..%d)", name, k, label, c.Title, classes, classes-1)
		}
		y[k] = label
		planes := rec[c.LabelBytes:]
		dst := pix[k*cifarPixels : (k+1)*cifarPixels]
		for p := range cifarPlane {
			dst[3*p] = planes[p]
			dst[3*p+1] = planes[cifarPlane+p]
			dst[3*p+2] = planes[2*cifarPlane+p]
		}
	}
	return nil
}

// Decode reads one batch file of size bytes (name is used in messages)
// into a dataset of 8-bit (N,32,32,3) images with c's classes.
func (c *CIFAR) Decode(name string, r io.Reader, size int64) (*Dataset, error) {
	n, err := c.countRecords(name, size)
	if err != nil {
		return nil, err
	}
	d := &Dataset{U8: &Uint8Images{Shape: []int{n, cifarSide, cifarSide, 3}, Pix: make([]uint8, n*cifarPixels)}, Y: make([]int, n), Classes: slices.Clone(c.Classes)}
	if err := c.decodeInto(name, r, n, d.U8.Pix, d.Y); err != nil {
		return nil, err
	}
	return d, nil
}

// Dir returns the folder of dir holding c's files: dir itself, or
// dir/Folder (the tarball's folder), whichever holds the test batch; ""
// when neither does.
func (c *CIFAR) Dir(dir string) string {
	for _, d := range []string{dir, filepath.Join(dir, c.Folder)} {
		if st, err := os.Stat(filepath.Join(d, c.Test)); err == nil && st.Mode().IsRegular() {
			return d
		}
	}
	return ""
}

// LoadDir reads the training and test batches from dir (or dir/Folder):
// 8-bit (N,32,32,3) images; class names from NamesFile when it is there
// (its count must be the class count), else the published names.
func (c *CIFAR) LoadDir(dir string) (train, test *Dataset, err error) {
	d := c.Dir(dir)
	if d == "" {
		return nil, nil, fmt.Errorf("data: %s: %s holds neither %s nor %s (want the binary version's %s and %s; tar xzf %s)",
			c.Title, dir, c.Test, filepath.Join(c.Folder, c.Test), strings.Join(c.Train, ", "), c.Test, path.Base(c.URL))
	}
	return c.loadFS(os.DirFS(d), d)
}

// loadFS reads the batches from fsys; dir names it in messages.
func (c *CIFAR) loadFS(fsys fs.FS, dir string) (train, test *Dataset, err error) {
	classes := slices.Clone(c.Classes)
	if _, err := fs.Stat(fsys, c.NamesFile); err == nil {
		names, err := readClassNames(fsys, c.NamesFile, filepath.Join(dir, c.NamesFile))
		if err != nil {
			return nil, nil, err
		}
		if len(names) != len(c.Classes) {
			return nil, nil, fmt.Errorf("data: %s names %d classes, %s has %d", filepath.Join(dir, c.NamesFile), len(names), c.Title, len(c.Classes))
		}
		classes = names
	}
	if train, err = c.loadBatches(fsys, dir, c.Train, classes); err != nil {
		return nil, nil, err
	}
	if test, err = c.loadBatches(fsys, dir, []string{c.Test}, classes); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadBatches reads files one after the other into one dataset.
func (c *CIFAR) loadBatches(fsys fs.FS, dir string, files []string, classes []string) (*Dataset, error) {
	counts := make([]int, len(files))
	total := 0
	for i, f := range files {
		st, err := fs.Stat(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %s: %w", c.Title, filepath.Join(dir, f), unwrapPath(err))
		}
		if counts[i], err = c.countRecords(filepath.Join(dir, f), st.Size()); err != nil {
			return nil, err
		}
		total += counts[i]
	}
	d := &Dataset{U8: &Uint8Images{Shape: []int{total, cifarSide, cifarSide, 3}, Pix: make([]uint8, total*cifarPixels)}, Y: make([]int, total), Classes: classes}
	at := 0
	for i, f := range files {
		fh, err := fsys.Open(f)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %s: %w", c.Title, filepath.Join(dir, f), unwrapPath(err))
		}
		n := counts[i]
		err = c.decodeInto(filepath.Join(dir, f), bufio.NewReaderSize(fh, 1<<16), n, d.U8.Pix[at*cifarPixels:(at+n)*cifarPixels], d.Y[at:at+n])
		fh.Close()
		if err != nil {
			return nil, err
		}
		at += n
	}
	return d, nil
}

// Find returns the folder under Home/datasets/NAME holding c's files
// (where Download puts them), or "".
func (c *CIFAR) Find(home string) string {
	return c.Dir(filepath.Join(home, "datasets", c.Name))
}

// Load reads c from Home/datasets/NAME, else, with o.Download, downloads
// it there first. Without a copy and without Download, the error wraps
// ErrNotFound.
func (c *CIFAR) Load(o FindOptions) (train, test *Dataset, err error) {
	home, err := o.home()
	if err != nil {
		return nil, nil, err
	}
	if d := c.Find(home); d != "" {
		return c.LoadDir(d)
	}
	where := filepath.Join(home, "datasets", c.Name, c.Folder)
	if !o.Download {
		return nil, nil, fmt.Errorf("data: %s %w (looked in %s)", c.Title, ErrNotFound, where)
	}
	dir, err := c.Download(context.Background(), o)
	if err != nil {
		return nil, nil, err
	}
	return c.LoadDir(dir)
}

// Download fetches the official tarball (o.URL replaces c.URL) into
// Home/datasets/NAME, checks its published MD5, extracts c's files into
// Home/datasets/NAME/Folder (atomically: a temporary folder renamed into
// place) and removes the tarball. It returns the folder.
func (c *CIFAR) Download(ctx context.Context, o FindOptions) (string, error) {
	home, err := o.home()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(home, "datasets", c.Name)
	url := c.URL
	if o.URL != "" {
		url = o.URL
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data: %s download: %w", c.Title, err)
	}
	tarball := filepath.Join(dir, path.Base(c.URL))
	if checkMD5(tarball, c.MD5) != nil {
		o.logf("[INFO] downloading %s (%d MB)\n", url, (c.Size+500_000)/1_000_000)
		if err := fetch.Checked(ctx, o.client(), url, tarball, fetch.MD5(c.MD5), nil); err != nil {
			return "", fmt.Errorf("data: %s download of %s into %s failed: %w", c.Title, url, dir, err)
		}
	}
	f, err := os.Open(tarball)
	if err != nil {
		return "", fmt.Errorf("data: %s: %w", c.Title, err)
	}
	defer f.Close()
	tmp, err := os.MkdirTemp(dir, "."+c.Folder+"-")
	if err != nil {
		return "", fmt.Errorf("data: %s: %w", c.Title, err)
	}
	defer os.RemoveAll(tmp)
	if err := c.extract(tarball, f, tmp); err != nil {
		return "", err
	}
	final := filepath.Join(dir, c.Folder)
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("data: %s: %w", c.Title, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("data: %s: %w", c.Title, err)
	}
	os.Remove(tarball)
	return final, nil
}

// extract writes the tarball's members Folder/NAME for c's files into
// dst (nothing else: no other paths, links or folders), and checks that
// the batches and NamesFile were there.
func (c *CIFAR) extract(name string, r io.Reader, dst string) error {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<16))
	if err != nil {
		return fmt.Errorf("data: %s: %s: %w", c.Title, name, err)
	}
	required := slices.Concat([]string{c.Test, c.NamesFile}, c.Train)
	wanted := slices.Concat(required, c.Extra)
	got := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("data: %s: %s: %w", c.Title, name, err)
		}
		dir, base := path.Split(path.Clean(h.Name))
		if h.Typeflag != tar.TypeReg || dir != c.Folder+"/" || !slices.Contains(wanted, base) || got[base] {
			continue
		}
		if h.Size > maxCIFARFile {
			return fmt.Errorf("data: %s: %s: member %s of %d bytes is too large", c.Title, name, h.Name, h.Size)
		}
		if err := writeMember(filepath.Join(dst, base), tr, h.Size); err != nil {
			return fmt.Errorf("data: %s: %s: %s: %w", c.Title, name, h.Name, err)
		}
		got[base] = true
	}
	for _, w := range required {
		if !got[w] {
			return fmt.Errorf("data: %s: %s has no %s", c.Title, name, path.Join(c.Folder, w))
		}
	}
	return nil
}

func writeMember(dst string, r io.Reader, size int64) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("truncated: %d of %d bytes", n, size)
	}
	return err
}

// checkMD5 checks a file's MD5.
func checkMD5(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return errors.New(path + ": MD5 " + got + ", want " + want)
	}
	return nil
}
