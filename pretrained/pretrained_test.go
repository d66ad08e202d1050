package pretrained

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// withTestModel registers a small fake model served by a loopback server
// and points the cache at a temporary directory.
func withTestModel(t *testing.T, content []byte, sha string) (*httptest.Server, *int) {
	t.Helper()
	t.Setenv("DLCV_HOME", t.TempDir())
	labels := []byte("background\ncat\n")
	ls := sha256.Sum256(labels)
	if sha == "" {
		s := sha256.Sum256(content)
		sha = hex.EncodeToString(s[:])
	}
	saved := Models
	t.Cleanup(func() { Models = saved })
	Models = append(append([]Model(nil), saved...), Model{
		Name:   "test-model",
		File:   File{Name: "test.tflite", SHA256: sha, Size: int64(len(content))},
		Labels: File{Name: "test_labels.txt", SHA256: hex.EncodeToString(ls[:])},
	})
	hits := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		switch r.URL.Path {
		case "/test.tflite":
			w.Write(content)
		case "/test_labels.txt":
			w.Write(labels)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func TestPullVerifiesAndCaches(t *testing.T) {
	content := bytes.Repeat([]byte("model bytes "), 1000)
	srv, hits := withTestModel(t, content, "")
	if _, _, err := Resolve("test-model"); !errors.Is(err, ErrNotDownloaded) || !strings.Contains(err.Error(), "dlcv models pull test-model") {
		t.Fatalf("before pull: %v", err)
	}
	var progressed bytes.Buffer
	p := &Puller{BaseURL: srv.URL, Progress: func(f File, size int64) io.Writer { return &progressed }}
	if err := p.Pull(context.Background(), "test-model"); err != nil {
		t.Fatal(err)
	}
	model, labels, err := Resolve("test-model")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(model)
	if !bytes.Equal(got, content) || progressed.Len() != len(content)+len("background\ncat\n") {
		t.Fatalf("cached %d bytes, progress saw %d", len(got), progressed.Len())
	}
	if filepath.Dir(model) != filepath.Join(os.Getenv("DLCV_HOME"), "models") || filepath.Base(labels) != "test_labels.txt" {
		t.Fatalf("paths %s %s", model, labels)
	}
	// A second pull finds both files cached and fetches nothing.
	before := *hits
	if err := p.Pull(context.Background(), "test-model"); err != nil || *hits != before {
		t.Fatalf("second pull: err %v, %d new requests", err, *hits-before)
	}
}

func TestPullChecksumMismatchSavesNothing(t *testing.T) {
	srv, _ := withTestModel(t, []byte("tampered"), strings.Repeat("0", 64))
	err := (&Puller{BaseURL: srv.URL}).Pull(context.Background(), "test-model")
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(os.Getenv("DLCV_HOME"), "models"))
	if len(entries) != 0 {
		t.Fatalf("cache holds %v after a failed pull", entries)
	}
}

func TestPullNotFound(t *testing.T) {
	srv, _ := withTestModel(t, []byte("x"), "")
	Models[len(Models)-1].File.Name = "missing.tflite"
	err := (&Puller{BaseURL: srv.URL}).Pull(context.Background(), "test-model")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "missing.tflite") {
		t.Fatalf("err = %v", err)
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := Lookup("resnet-9000")
	if err == nil || !strings.Contains(err.Error(), "mobilenet-v2") {
		t.Fatalf("err = %v", err)
	}
}

func TestDirDefault(t *testing.T) {
	t.Setenv("DLCV_HOME", "")
	d, err := Dir()
	if err != nil {
		t.Skip(err)
	}
	if filepath.Base(d) != "dlcv" {
		t.Fatalf("Dir() = %s", d)
	}
}

// The registry's checksums and sizes match the public files (the shared
// data holds copies).
func TestRegistryChecksums(t *testing.T) {
	for _, m := range Models {
		for _, f := range m.Files() {
			dir, lic := "models/coral/", "Apache-2.0"
			if m.Kind == KindAnnotate {
				dir, lic = "models/tfjs/", "MIT"
				if m.Name == "ppocr-v4" {
					dir, lic = "models/onnx/", "Apache-2.0"
				}
			}
			if m.License != lic || m.InputSize <= 0 {
				t.Errorf("%s: incomplete entry %+v", m.Name, m)
			}
			if m.Archive != nil {
				if f.URL != "" || f.From == nil || !strings.HasPrefix(m.Archive.URL, "https://registry.npmjs.org/") {
					t.Errorf("%s: %s: an archive's file has no URL and names its member", m.Name, f.Name)
				}
			} else if !strings.HasPrefix(f.URL, "https://") {
				t.Errorf("%s: %s: URL %q", m.Name, f.Name, f.URL)
			}
			b, err := os.ReadFile(testutil.SharedFile(t, dir+f.Name))
			if err != nil {
				t.Fatal(err)
			}
			s := sha256.Sum256(b)
			if hex.EncodeToString(s[:]) != f.SHA256 || int64(len(b)) != f.Size {
				t.Errorf("%s: registry SHA-256/size do not match the file", f.Name)
			}
		}
	}
}

func TestResolveModelPathFindsLabels(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "net.tflite")
	os.WriteFile(model, []byte("x"), 0o644)
	if m, l, err := ResolveModel(model); err != nil || m != model || l != "" {
		t.Fatalf("no labels beside: %q %q %v", m, l, err)
	}
	os.WriteFile(filepath.Join(dir, "labels.txt"), []byte("a\nb\n"), 0o644)
	if _, l, _ := ResolveModel(model); l != filepath.Join(dir, "labels.txt") {
		t.Fatalf("labels.txt not found: %q", l)
	}
	os.WriteFile(filepath.Join(dir, "net_labels.txt"), []byte("a\nb\n"), 0o644)
	if _, l, _ := ResolveModel(model); l != filepath.Join(dir, "net_labels.txt") {
		t.Fatalf("NAME_labels.txt should win over labels.txt: %q", l)
	}
	if _, _, err := ResolveModel(filepath.Join(dir, "missing.tflite")); err == nil {
		t.Fatal("missing path accepted")
	}
}

// Issue 15, defect 5: a flipped bit in a cached .tflite loaded and gave
// changed answers. Resolve (and --model with a path into the cache) now
// checks the registry's SHA-256, and Pull replaces the damaged file.
func TestCorruptedCacheIsRefused(t *testing.T) {
	content := bytes.Repeat([]byte("model bytes "), 1000)
	srv, _ := withTestModel(t, content, "")
	p := &Puller{BaseURL: srv.URL}
	if err := p.Pull(context.Background(), "test-model"); err != nil {
		t.Fatal(err)
	}
	model, _, err := Resolve("test-model")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(model)
	b[len(b)/2] ^= 0x10
	os.WriteFile(model, b, 0o644)
	for _, arg := range []string{"test-model", model} {
		_, _, err := ResolveModel(arg)
		if !errors.Is(err, ErrCorrupted) || !strings.Contains(err.Error(), model) {
			t.Errorf("ResolveModel(%s): %v", arg, err)
		}
	}
	if _, _, err := Resolve("test-model"); err == nil || !strings.Contains(err.Error(), "dlcv models pull test-model") {
		t.Errorf("Resolve: %v", err)
	}
	// Pull notices and downloads it again.
	if err := p.Pull(context.Background(), "test-model"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Resolve("test-model"); err != nil {
		t.Fatalf("after pulling again: %v", err)
	}
	// A .tflite elsewhere is not the registry's business.
	other := filepath.Join(t.TempDir(), "mine.tflite")
	os.WriteFile(other, b, 0o644)
	if _, _, err := ResolveModel(other); err != nil {
		t.Fatal(err)
	}
}
