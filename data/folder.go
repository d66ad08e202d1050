package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // GIF decoder
	_ "image/jpeg" // JPEG decoder
	_ "image/png"  // PNG decoder
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	_ "golang.org/x/image/bmp"  // BMP decoder
	_ "golang.org/x/image/tiff" // TIFF decoder
	_ "golang.org/x/image/webp" // WebP decoder

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// ImageExtensions are the file extensions (lower case) image loaders read.
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// DefaultMaxPixels is the largest image (width x height) DecodeImage
// accepts by default: 64 megapixels.
const DefaultMaxPixels = 64 << 20

// Sample is one labelled image file.
type Sample struct {
	Path  string
	Label int
}

// Skipped is an image file that could not be used, and why.
type Skipped struct {
	Path   string
	Reason string
}

func (s Skipped) String() string { return s.Path + ": " + s.Reason }

// LoadOptions control LoadImages and LoadImageFolder.
type LoadOptions struct {
	// Preprocess turns every image into the dataset's (H,W,C) sample.
	Preprocess Preprocess
	// SkipBad skips unreadable images (listing them in the returned
	// []Skipped) instead of failing on the first one.
	SkipBad bool
	// MaxPixels bounds width x height before decoding (default
	// DefaultMaxPixels).
	MaxPixels int
	// Workers caps how many files are decoded at once; 0 means
	// kernels.Threads(), the process-wide count, which also caps any
	// other value.
	Workers int
}

// IsImageFile reports whether name has one of ImageExtensions.
func IsImageFile(name string) bool {
	return slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(name)))
}

// ListImageFolder lists root's image files: each sub-folder of root is a
// class (classes sorted by name, label = index), holding images at any
// depth. Hidden files and folders and non-image files are ignored.
func ListImageFolder(root string) (samples []Sample, classes []string, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("data: image folder: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	slices.Sort(classes)
	if len(classes) == 0 {
		return nil, nil, fmt.Errorf("data: image folder %s has no class sub-folders", root)
	}
	for label, c := range classes {
		n := 0
		err := filepath.WalkDir(filepath.Join(root, c), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != filepath.Join(root, c) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && IsImageFile(p) {
				samples = append(samples, Sample{p, label})
				n++
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("data: image folder: %w", err)
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("data: class folder %s holds no images (%s)", filepath.Join(root, c), strings.Join(ImageExtensions, " "))
		}
	}
	return samples, classes, nil
}

// LoadImageFolder loads root's images (see ListImageFolder) with opts.
func LoadImageFolder(root string, opts LoadOptions) (*Dataset, []Skipped, error) {
	samples, classes, err := ListImageFolder(root)
	if err != nil {
		return nil, nil, err
	}
	return LoadImages(samples, classes, opts)
}

// DecodeImage decodes an image file after checking with
// image.DecodeConfig that it has at most maxPixels pixels (0: the
// default), so a hostile header cannot make it allocate gigabytes.
func DecodeImage(path string, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	img, err := decodeFile(path, maxPixels)
	var pe *fs.PathError
	if err != nil && !errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", path, err) // name the file
	}
	return img, err
}

// decodeFile opens and decodes path; errors other than opening it do not
// name the file (callers add it).
func decodeFile(path string, maxPixels int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeImage(f, maxPixels)
}

// decodeImage is DecodeImage on an open stream.
func decodeImage(r io.ReadSeeker, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("not a readable image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%s image of %dx%d pixels exceeds the limit of %d pixels", format, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("corrupt %s image: %w", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%s image decodes to %dx%d but its header says %dx%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, nil
}

// LoadImages decodes and preprocesses the given files into a dataset whose
// classes are classes (labels index it). Files are decoded in parallel;
// the dataset keeps the samples' order, minus skipped ones.
func LoadImages(samples []Sample, classes []string, opts LoadOptions) (*Dataset, []Skipped, error) {
	p := opts.Preprocess
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	for _, s := range samples {
		if s.Label < 0 || s.Label >= len(classes) {
			return nil, nil, fmt.Errorf("data: %s has label %d, outside 0..%d", s.Path, s.Label, len(classes)-1)
		}
	}
	per := p.Len()
	buf := make([]float32, len(samples)*per)
	reasons := make([]string, len(samples))
	workers := kernels.Threads()
	if opts.Workers > 0 {
		workers = min(workers, opts.Workers)
	}
	// Files differ in cost, so each goroutine takes the next file as it
	// finishes one.
	var next atomic.Int64
	kernels.ParallelFunc(min(workers, len(samples)), 1, func(lo, hi int) {
		for i := int(next.Add(1) - 1); i < len(samples); i = int(next.Add(1) - 1) {
			img, err := decodeFile(samples[i].Path, opts.MaxPixels)
			if err == nil {
				err = p.ApplyTo(buf[i*per:(i+1)*per], img)
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is reported beside the reason
			}
			if err != nil {
				reasons[i] = err.Error()
			}
		}
	})

	var skipped []Skipped
	y := make([]int, 0, len(samples))
	k := 0
	for i, s := range samples {
		if reasons[i] != "" {
			if !opts.SkipBad {
				return nil, nil, fmt.Errorf("data: %s: %s", s.Path, reasons[i])
			}
			skipped = append(skipped, Skipped{s.Path, reasons[i]})
			continue
		}
		copy(buf[k*per:(k+1)*per], buf[i*per:(i+1)*per])
		y = append(y, s.Label)
		k++
	}
	x, err := tensor.FromSlice(buf[:k*per], k, p.Height, p.Width, p.Channels)
	if err != nil {
		return nil, nil, err
	}
	return &Dataset{X: x, Y: y, Classes: slices.Clone(classes)}, skipped, nil
}
