package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

func TestObjectsCommand(t *testing.T) {
	model := testutil.SharedFile(t, "models/tfjs/human/centernet.json")
	photo := testutil.SharedFile(t, "models/coral/grace_hopper.bmp")
	out := t.TempDir()
	code, stdout, stderr := runCLI("objects", photo, "--model", model, "--out", out)
	if code != 0 || !strings.Contains(stdout, ": 2 objects (512x600)\n  person         0.71") || !strings.Contains(stdout, "tie            0.26") {
		t.Fatalf("code %d stdout %s stderr %s", code, stdout, stderr)
	}
	if st, err := os.Stat(filepath.Join(out, "grace_hopper_objects.png")); err != nil || st.Size() < 1000 {
		t.Fatalf("annotated copy: %v", err)
	}
	code, stdout, _ = runCLI("objects", photo, "--model", model, "--json", "--min-score", "0.5")
	var res []objectsResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 || len(res) != 1 || len(res[0].Objects) != 1 || res[0].Objects[0].Name != "person" {
		t.Fatalf("json: code %d %v %s", code, err, stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"objects"}, 2, "at least one PHOTO"},
		{[]string{"objects", photo, "--min-score", "1.5"}, 2, "--min-score 1.5"},
		{[]string{"objects", photo, "--model", filepath.Join(out, "none.json")}, 1, "none.json"},
		{[]string{"objects", photo, "--model", photo}, 1, "grace_hopper.bmp"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// Without the model in the cache: how to get it.
	t.Setenv("DLCV_HOME", t.TempDir())
	if code, _, stderr := runCLI("objects", photo); code != 1 || !strings.Contains(stderr, "dlcv models pull centernet") {
		t.Errorf("no model: code %d %q", code, stderr)
	}
}

func TestSafeSearchCommand(t *testing.T) {
	model := testutil.SharedFile(t, "models/tfjs/nsfw-mobilenet-v2/model.json")
	photo := testutil.SharedFile(t, "models/coral/bird.bmp")
	code, stdout, stderr := runCLI("safesearch", photo, "--model", model)
	want := ": adult VERY_UNLIKELY, racy VERY_UNLIKELY, spoof UNKNOWN, medical UNKNOWN, violence UNKNOWN\n  Drawing 0.024, Hentai 0.002, Neutral 0.960, Porn 0.011, Sexy 0.003\n"
	if code != 0 || stdout != photo+want {
		t.Fatalf("code %d stdout %q stderr %s", code, stdout, stderr)
	}
	t.Setenv("DLCV_HOME", t.TempDir())
	if code, _, stderr := runCLI("safesearch", photo); code != 1 || !strings.Contains(stderr, "dlcv models pull nsfw-mobilenet-v2") {
		t.Errorf("no model: code %d %q", code, stderr)
	}
}

func TestFacesBlazeFace(t *testing.T) {
	bf := testutil.SharedFile(t, "models/tfjs/human/blazeface.json")
	em := testutil.SharedFile(t, "models/tfjs/human/emotion.json")
	photo := testutil.SharedFile(t, "models/coral/grace_hopper.bmp")
	code, stdout, stderr := runCLI("faces", photo, "--blazeface-model", bf, "--emotion-model", em, "--json")
	var res []facesResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 || len(res) != 1 || len(res[0].Faces) != 1 {
		t.Fatalf("code %d %v %s %s", code, err, stdout, stderr)
	}
	f := res[0].Faces[0]
	if len(f.Landmarks) != 6 || f.Landmarks[0].Type != "LEFT_EYE" || f.JoyLikelihood == "UNKNOWN" || len(f.Emotions) != 7 {
		t.Errorf("face %+v", f)
	}
	t.Setenv("DLCV_HOME", t.TempDir())
	if code, _, stderr := runCLI("faces", photo); code != 1 || !strings.Contains(stderr, "dlcv models pull blazeface") || !strings.Contains(stderr, "--detector haar") {
		t.Errorf("no model: code %d %q", code, stderr)
	}
}

func TestTextCommand(t *testing.T) {
	dir := testutil.SharedFile(t, "models/onnx/paddleocr")
	photo := testutil.SharedFile(t, "models/coral/cat.bmp")
	code, stdout, stderr := runCLI("text", photo, "--model", dir, "--json")
	var res []textResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 || len(res) != 1 {
		t.Fatalf("code %d %v %s %s", code, err, stdout, stderr)
	}
	t.Setenv("DLCV_HOME", t.TempDir())
	if code, _, stderr := runCLI("text", photo); code != 1 || !strings.Contains(stderr, "dlcv models pull ppocr-v4") {
		t.Errorf("no model: code %d %q", code, stderr)
	}
}
