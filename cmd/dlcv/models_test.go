package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

func TestModelsListShowsLocal(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir())
	code, stdout, stderr := runCLI("models")
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	for _, want := range []string{"Pretrained classifiers", "mobilenet-v2 ", "mobilenet-v1-0.25", "mobilenet-v2-int8", "Apache-2.0", "224x224", " no ", os.Getenv("DLCV_HOME")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("listing lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, " yes ") {
		t.Errorf("empty cache listed as present:\n%s", stdout)
	}
}

// Pull from a loopback server serving the shared copies, then classify by
// registry name.
func TestModelsPullThenClassifyByName(t *testing.T) {
	dir := filepath.Dir(testutil.SharedFile(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite"))
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	modelsBaseURL = srv.URL
	defer func() { modelsBaseURL = "" }()
	t.Setenv("DLCV_HOME", t.TempDir())

	code, stdout, stderr := runCLI("models", "pull", "mobilenet-v1-0.25")
	if code != 0 || !strings.Contains(stdout, "SHA-256 verified") {
		t.Fatalf("pull: code %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI("models")
	if code != 0 || !strings.Contains(stdout, "yes") {
		t.Fatalf("listing after pull:\n%s", stdout)
	}
	code, stdout, stderr = runCLI("classify", "--model", "mobilenet-v1-0.25", "--top", "5", filepath.Join(dir, "bird.bmp"))
	if code != 0 || !strings.Contains(stdout, "chickadee") {
		t.Fatalf("classify: code %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestModelsPullErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	modelsBaseURL = srv.URL
	defer func() { modelsBaseURL = "" }()
	t.Setenv("DLCV_HOME", t.TempDir())
	code, _, stderr := runCLI("models", "pull", "mobilenet-v2")
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Fatalf("404: code %d stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("models", "pull", "nosuch")
	if code != 2 || !strings.Contains(stderr, "unknown model") {
		t.Fatalf("unknown: code %d stderr %q", code, stderr)
	}
	code, _, _ = runCLI("models", "frob")
	if code != 2 {
		t.Fatalf("bad arg: code %d", code)
	}
}
