package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

func TestClassifyModelPath(t *testing.T) {
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels := testutil.SharedFile(t, "models/coral/imagenet_labels.txt")
	cat := testutil.SharedFile(t, "models/coral/cat.bmp")
	code, stdout, stderr := runCLI("classify", cat, "--model", model, "--labels", labels, "--top", "3")
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || lines[0] != cat || !strings.HasPrefix(lines[1], "  Egyptian cat 7") || !strings.HasSuffix(lines[1], "%") {
		t.Fatalf("stdout:\n%s", stdout)
	}

	code, stdout, stderr = runCLI("classify", "--json", "--top", "1", "--model", model, "--labels", labels, cat)
	if code != 0 {
		t.Fatalf("json: code %d stderr %s", code, stderr)
	}
	var res []classifyResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Top) != 1 || res[0].Top[0].Index != 286 || res[0].Top[0].Score < 0.7 {
		t.Fatalf("json: %+v", res)
	}
}

func TestClassifyMissingModelSaysHowToGetIt(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir())
	code, _, stderr := runCLI("classify", "photo.jpg", "--model", "mobilenet-v2")
	if code != 1 || !strings.Contains(stderr, "dlcv models pull mobilenet-v2") || !strings.Contains(stderr, "--model PATH") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("classify", "photo.jpg", "--model", "nosuch")
	if code != 1 || !strings.Contains(stderr, `unknown model "nosuch"`) {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

func TestClassifyUsage(t *testing.T) {
	code, _, stderr := runCLI("classify")
	if code != 2 || !strings.Contains(stderr, "no image") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("classify", "x.jpg", "--top", "0")
	if code != 2 || !strings.Contains(stderr, "--top") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	code, stdout, stderr := runCLI("classify", "--help")
	if code != 0 || !strings.Contains(stderr+stdout, "dlcv models pull") {
		t.Fatalf("help: code %d %q", code, stderr)
	}
}

// A folder stands for its photos; an unreadable one is reported and the
// others classified, with a non-zero exit.
func TestClassifyFolderCarriesOn(t *testing.T) {
	model := testutil.SharedFile(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	labels := testutil.SharedFile(t, "models/coral/imagenet_labels.txt")
	cat, err := os.ReadFile(testutil.SharedFile(t, "models/coral/cat.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a_cat.bmp"), cat, 0o644)
	os.WriteFile(filepath.Join(dir, "b_broken.jpg"), []byte("not a jpeg"), 0o644)
	code, stdout, stderr := runCLI("classify", dir, "--model", model, "--labels", labels, "--top", "1")
	if code != 1 || !strings.Contains(stdout, "a_cat.bmp\n  Egyptian cat") || !strings.Contains(stderr, "b_broken.jpg: not a readable image") ||
		!strings.Contains(stderr, "1 of 2 images could not be classified") {
		t.Fatalf("code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// A TF.js model: the file does not say how its input is scaled, and the
// error names the flag; with it, the five classes, and a warning that no
// labels were found.
func TestClassifyTFJSNeedsScale(t *testing.T) {
	model := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	cat := testutil.SharedFile(t, "models/coral/cat.bmp")
	code, _, stderr := runCLI("classify", cat, "--model", model)
	if code != 1 || !strings.Contains(stderr, "--scale") {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	code, stdout, stderr := runCLI("classify", cat, "--model", model, "--scale", "1/255", "--json")
	if code != 0 || !strings.Contains(stderr, "no label file") {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	var res []classifyResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 1 || len(res[0].Top) != 5 {
		t.Fatalf("%v: %s", err, stdout)
	}
	if code, _, stderr := runCLI("classify", cat, "--model", model, "--layout", "chw"); code != 2 || !strings.Contains(stderr, "--layout") {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
}
