package main

import (
	"encoding/json"
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
