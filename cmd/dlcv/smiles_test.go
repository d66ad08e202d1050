package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/detect"
	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/metrics"
)

// smilesPhoto writes a photo of SMILEsmileD faces (SMILEs/<rel>, enlarged
// 3x) side by side on a gray canvas and returns the faces' boxes.
func smilesPhoto(t *testing.T, path string, rels ...string) []image.Rectangle {
	t.Helper()
	root := filepath.Join(testutil.SharedDir(t), "data", "SMILEsmileD", "SMILEs")
	const side, gap = 192, 40
	canvas := image.NewGray(image.Rect(0, 0, gap+len(rels)*(side+gap), side+2*gap))
	draw.Draw(canvas, canvas.Rect, image.NewUniform(color.Gray{128}), image.Point{}, draw.Src)
	var boxes []image.Rectangle
	for i, rel := range rels {
		img, err := detect.ReadImage(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		g := detect.Gray(img)
		x0 := gap + i*(side+gap)
		for y := range side {
			for x := range side {
				canvas.SetGray(x0+x, gap+y, g.GrayAt(x/3, y/3))
			}
		}
		boxes = append(boxes, image.Rect(x0, gap, x0+side, gap+side))
	}
	writeTestPNG(t, path, canvas)
	return boxes
}

func TestSmilesDetect(t *testing.T) {
	cascade := testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml")
	hopper := testutil.SharedFile(t, "models/coral/grace_hopper.bmp")
	frames := t.TempDir()
	boxes := smilesPhoto(t, filepath.Join(frames, "a_group.png"),
		"negatives/negatives7/4.jpg", "positives/positives7/6.jpg", "negatives/negatives7/10.jpg", "positives/positives7/24.jpg")
	wantLabels := []string{"not_smiling", "smiling", "not_smiling", "smiling"}
	img, err := detect.ReadImage(hopper)
	if err != nil {
		t.Fatal(err)
	}
	writeTestPNG(t, filepath.Join(frames, "b_hopper.png"), img)
	writeTestPNG(t, filepath.Join(frames, "c_blank.png"), image.NewGray(image.Rect(0, 0, 80, 60)))
	os.WriteFile(filepath.Join(frames, "notes.txt"), []byte("not an image extension: ignored"), 0o644)
	out := filepath.Join(t.TempDir(), "annotated")

	code, stdout, stderr := runCLI("smiles", "detect", "--json", frames, "--cascade", cascade, "--out", out, "--min-size", "60")
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	var res []smilesResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v in %s", err, stdout)
	}
	if len(res) != 3 {
		t.Fatalf("%d results: %s", len(res), stdout)
	}
	if n := len(res[0].Faces); n != len(boxes) {
		t.Fatalf("composite: %d faces, want %d: %+v", n, len(boxes), res[0].Faces)
	}
	for i, f := range res[0].Faces {
		got := image.Rect(f.X, f.Y, f.X+f.W, f.Y+f.H)
		// The cascade's boxes come left to right in this photo.
		if in := got.Intersect(boxes[i]); in.Dx()*in.Dy() < boxes[i].Dx()*boxes[i].Dy()/2 {
			t.Errorf("face %d at %v, want about %v", i, got, boxes[i])
		}
		if f.Label != wantLabels[i] || f.Probability < 0.5 || f.Probability > 1 {
			t.Errorf("face %d: %s %.3f, want %s", i, f.Label, f.Probability, wantLabels[i])
		}
	}
	if h := res[1].Faces; len(h) != 1 || h[0].X < 140 || h[0].X > 165 || h[0].W < 210 || h[0].W > 240 || (h[0].Label != "smiling" && h[0].Label != "not_smiling") {
		t.Errorf("grace hopper: %+v", h)
	}
	if len(res[2].Faces) != 0 {
		t.Errorf("blank frame: %+v", res[2].Faces)
	}
	for _, r := range res {
		f, err := os.Open(r.Annotated)
		if err != nil {
			t.Fatalf("annotated copy: %v", err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != r.Width || cfg.Height != r.Height {
			t.Errorf("%s: %v %+v", r.Annotated, err, cfg)
		}
	}

	// Text output of one photo.
	code, stdout, stderr = runCLI("smiles", "detect", filepath.Join(frames, "b_hopper.png"), "--cascade", cascade)
	if code != 0 || !strings.Contains(stdout, "b_hopper.png: 1 face (512x600)") || !strings.Contains(stdout, "  1: x=") {
		t.Errorf("text: code %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestSmilesDetectBadInputs(t *testing.T) {
	cascade := testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml")
	photo := testutil.SharedFile(t, "models/coral/grace_hopper.bmp")
	dir := t.TempDir()
	text := filepath.Join(dir, "fake.jpg")
	os.WriteFile(text, []byte("this is not a JPEG"), 0o644)

	// A bad photo is reported, the good one still processed, exit 1.
	code, stdout, stderr := runCLI("smiles", "detect", text, photo, "--cascade", cascade)
	if code != 1 || !strings.Contains(stdout, "1 face") || !strings.Contains(stderr, "fake.jpg: not a readable image") || !strings.Contains(stderr, "1 of 2 photos") {
		t.Errorf("code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"smiles"}, 2, "want a sub-command"},
		{[]string{"smiles", "frown"}, 2, `unknown sub-command "frown"`},
		{[]string{"smiles", "detect"}, 2, "at least one PHOTO"},
		{[]string{"smiles", "detect", photo, "--min-size", "-1"}, 2, "--min-size"},
		{[]string{"smiles", "detect", photo, "--scale-factor", "1"}, 2, "--scale-factor 1"},
		{[]string{"smiles", "detect", filepath.Join(dir, "missing.png")}, 1, "missing.png"},
		{[]string{"smiles", "detect", t.TempDir()}, 1, "holds no images"},
		{[]string{"smiles", "detect", photo, "--cascade", cascade, "--model", filepath.Join(dir, "none.safetensors")}, 1, "none.safetensors"},
		{[]string{"smiles", "detect", photo, "--cascade", cascade, "--model", text}, 1, "fake.jpg"},
		{[]string{"smiles", "detect", photo, "--cascade", filepath.Join(dir, "none.xml")}, 1, "apt-get install opencv-data"},
		{[]string{"smiles", "detect", photo, "--cascade", text}, 1, "fake.jpg"},
		{[]string{"smiles", "train", "--data", t.TempDir(), "--epochs", "1"}, 1, "not a SMILEsmileD checkout"},
		{[]string{"smiles", "train", "--size", "28"}, 2, "--size"},
		{[]string{"smiles", "train", "--dense", "0"}, 2, "--dense"},
		{[]string{"smiles", "train", "extra"}, 2, "unexpected argument"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	t.Setenv("DLCV_SMILES", "")
	if code, _, stderr := runCLI("smiles", "train"); code != 2 || !strings.Contains(stderr, "DLCV_SMILES") {
		t.Errorf("no data: code %d %q", code, stderr)
	}
	for _, sub := range []string{"train", "detect"} {
		code, _, stderr := runCLI("smiles", sub, "--help")
		if code != 0 || !strings.Contains(stderr, "dlcv smiles "+sub) || !strings.Contains(stderr, "Examples:") {
			t.Errorf("%s help: code %d %q", sub, code, stderr)
		}
	}
	if code, _, stderr := runCLI("smiles", "--help"); code != 0 || !strings.Contains(stderr, "dlcv smiles detect PHOTO") {
		t.Errorf("help: code %d %q", code, stderr)
	}
}

// TestSmilesTrain runs the case study on a small subset: 2 epochs on
// 2,000 images must beat the majority class (72% accuracy, 0.5 macro
// recall) by a wide margin.
func TestSmilesTrain(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t), "data", "SMILEsmileD")
	if _, err := os.Stat(dir); err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	t.Setenv("DLCV_SMILES", dir)
	code, stdout, stderr := runCLI("smiles", "train", "--epochs", "2", "--limit", "2000", "--batch-size", "32", "--out", out)
	if code != 0 {
		t.Fatalf("code %d stderr %s", code, stderr)
	}
	for _, want := range []string{" not_smiling ", "     smiling ", "accuracy"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "class weights: not_smiling 0.69") || !strings.Contains(stderr, "smiling 1.78") {
		t.Errorf("class weights not reported:\n%s", stderr)
	}
	var rep metrics.Report
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy < 0.78 || rep.Macro.Recall < 0.7 {
		t.Errorf("accuracy %.3f, macro recall %.3f", rep.Accuracy, rep.Macro.Recall)
	}
	for _, f := range []string{"model.safetensors", "training.png", "history.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// The trained model works with detect.
	cascade := testutil.SharedFile(t, "models/haarcascades/haarcascade_frontalface_default.xml")
	hopper := testutil.SharedFile(t, "models/coral/grace_hopper.bmp")
	code, stdout, stderr = runCLI("smiles", "detect", hopper, "--cascade", cascade, "--model", filepath.Join(out, "model.safetensors"))
	if code != 0 || !strings.Contains(stdout, "1 face") {
		t.Errorf("detect with the trained model: code %d %s %s", code, stdout, stderr)
	}
}
