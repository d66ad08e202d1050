package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/train"
)

// writeStripes makes an image folder of 2 classes (horizontal vs vertical
// stripes) for end-to-end CLI runs.
func writeStripes(t *testing.T, dir string, n int) {
	t.Helper()
	for ci, class := range []string{"horizontal", "vertical"} {
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for i := 0; i < n; i++ {
			img := image.NewGray(image.Rect(0, 0, 12, 12))
			for y := 0; y < 12; y++ {
				for x := 0; x < 12; x++ {
					c := y
					if ci == 1 {
						c = x
					}
					v := uint8(40 + (i*7+x*3+y*5)%30)
					if (c+i)%4 < 2 {
						v = 220
					}
					img.SetGray(x, y, color.Gray{v})
				}
			}
			f, err := os.Create(filepath.Join(dir, class, "img"+string(rune('a'+i%26))+string(rune('a'+i/26))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}
}

func TestTrainEvaluatePredictCLI(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "stripes")
	writeStripes(t, ds, 32)
	out := filepath.Join(dir, "run")
	code, stdout, stderr := runCLI("train", "--dataset", ds, "--arch", "shallownet", "--size", "12x12", "--channels", "1",
		"--epochs", "5", "--batch-size", "8", "--optimizer", "adam", "--out", out, "--seed", "5")
	if code != 0 {
		t.Fatalf("train exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"precision", "horizontal", "vertical", "accuracy", "macro avg", "Epoch 5/5"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("train output lacks %q:\n%s", want, stdout)
		}
	}
	model := filepath.Join(out, "model.safetensors")
	code, stdout, stderr = runCLI("evaluate", model)
	if code != 0 || !strings.Contains(stdout, "weighted avg") || !strings.Contains(stdout, "true\\pred") {
		t.Fatalf("evaluate exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI("evaluate", model, "--json")
	var ev struct {
		Report struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"report"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &ev) != nil || ev.Report.Accuracy < 0.8 {
		t.Fatalf("evaluate --json exit %d accuracy %v\n%s\n%s", code, ev.Report.Accuracy, stdout, stderr)
	}
	img := filepath.Join(ds, "vertical", "imgaa.png")
	code, stdout, stderr = runCLI("predict", "--model", model, "--top", "1", img)
	if code != 0 || !strings.Contains(stdout, "vertical") || !strings.Contains(stdout, "%") {
		t.Fatalf("predict exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI("predict", "--model", model, "--json", img)
	var preds []struct {
		Predictions []struct {
			Label       string  `json:"label"`
			Probability float64 `json:"probability"`
		} `json:"predictions"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &preds) != nil || len(preds) != 1 || len(preds[0].Predictions) != 2 {
		t.Fatalf("predict --json exit %d\n%s", code, stdout)
	}
	// A folder stands for the images below it.
	code, stdout, stderr = runCLI("predict", "--model", model, "--top", "1", filepath.Join(ds, "vertical"))
	if code != 0 || strings.Count(stdout, "\n") != 32 || strings.Count(stdout, "vertical") < 32 {
		t.Fatalf("predict FOLDER exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI("summary", model)
	if code != 0 || !strings.Contains(stdout, "Total params") || !strings.Contains(stdout, "horizontal, vertical") {
		t.Fatalf("summary exit %d\n%s", code, stdout)
	}

	// Bad input: a non-image file, a missing model, a corrupt model.
	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	code, _, stderr = runCLI("predict", "--model", model, bad)
	if code != 1 || !strings.Contains(stderr, "notes.txt") {
		t.Fatalf("predict on text file: exit %d stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("predict", "--model", filepath.Join(dir, "missing.safetensors"), img)
	if code != 1 || !strings.Contains(stderr, "missing.safetensors") {
		t.Fatalf("missing model: exit %d stderr %q", code, stderr)
	}
	b, _ := os.ReadFile(model)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	os.WriteFile(corrupt, b[:len(b)/2], 0o644)
	code, _, stderr = runCLI("evaluate", corrupt)
	if code != 1 || !strings.Contains(stderr, "corrupt.safetensors") {
		t.Fatalf("corrupt model: exit %d stderr %q", code, stderr)
	}
}

func TestTrainCLIBadFlags(t *testing.T) {
	cases := [][]string{
		{"train", "--epochs", "many"},
		{"train", "--size", "big"},
		{"train", "--augment", "sparkle"},
		{"train", "--frobnicate"},
		{"train", "extra-arg"},
		{"predict", "x.png"},
		{"predict", "--model", "m"},
		{"evaluate"},
		{"summary"},
		{"summary", "lenet", "--input", "28x28"},
	}
	for _, args := range cases {
		code, _, stderr := runCLI(args...)
		if code != 2 || stderr == "" {
			t.Errorf("%v: exit %d stderr %q, want usage error (2)", args, code, stderr)
		}
	}
	code, _, stderr := runCLI("train", "--dataset", "/no/such/dir", "--quiet")
	if code != 1 || !strings.Contains(stderr, "/no/such/dir") {
		t.Errorf("missing dataset: exit %d stderr %q", code, stderr)
	}
	code, stdout, _ := runCLI("summary", "lenet")
	if code != 0 || !strings.Contains(stdout, "1,256,080") {
		t.Errorf("summary lenet: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("models")
	if code != 0 || !strings.Contains(stdout, "minivggnet") || !strings.Contains(stdout, "235,146") {
		t.Errorf("models: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("datasets")
	if code != 0 || !strings.Contains(stdout, "mnist") {
		t.Errorf("datasets: %d %s", code, stdout)
	}
}

// Issue 15, defect 6: --resume accepted a checkpoint made with another
// dataset, seed or limit and wrote the new settings into the model. It now
// refuses, naming both values, unless --force.
func TestTrainResumeRefusesOtherSettings(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "stripes")
	writeStripes(t, ds, 16)
	run := filepath.Join(dir, "run")
	common := []string{"train", "--dataset", ds, "--arch", "shallownet", "--size", "12x12", "--channels", "1", "--optimizer", "adam", "--quiet"}
	if code, _, stderr := runCLI(append(common, "--epochs", "1", "--batch-size", "8", "--seed", "5", "--out", run)...); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	// A checkpoint of that run after its first epoch.
	net, meta, err := nn.LoadFile(filepath.Join(run, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range meta {
		if strings.HasPrefix(k, "dlcv.") {
			delete(meta, k)
		}
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	h := &train.History{Epochs: []train.EpochLogs{{Epoch: 1, Loss: 1, Accuracy: 0.5, ValLoss: 1, ValAccuracy: 0.5}}}
	if err := train.SaveCheckpoint(ck, net, optim.NewAdam(0.001, 0, 0, 0), h, meta); err != nil {
		t.Fatal(err)
	}
	resume := append(common, "--resume", ck, "--epochs", "2")
	code, _, stderr := runCLI(append(resume, "--seed", "6", "--batch-size", "16")...)
	if code != 1 || !strings.Contains(stderr, "--seed 5 in the checkpoint, 6 now") || !strings.Contains(stderr, "--batch-size 8 in the checkpoint, 16 now") || !strings.Contains(stderr, "--force") {
		t.Fatalf("other seed and batch size: code %d\n%s", code, stderr)
	}
	if code, _, stderr := runCLI(append(resume, "--seed", "5", "--batch-size", "8", "--limit", "20")...); code != 1 || !strings.Contains(stderr, "--limit none in the checkpoint, 20 now") {
		t.Fatalf("a limit: code %d\n%s", code, stderr)
	}
	if code, _, stderr := runCLI(append(resume, "--seed", "6", "--batch-size", "8", "--force")...); code != 0 {
		t.Fatalf("--force: code %d\n%s", code, stderr)
	}
	if code, _, stderr := runCLI(append(resume, "--seed", "5", "--batch-size", "8")...); code != 0 {
		t.Fatalf("same settings: code %d\n%s", code, stderr)
	}
}

// --size takes WIDTHxHEIGHT; a third part is refused, pointing at
// --channels; MNIST at another size names only what was given.
func TestTrainSizeMessages(t *testing.T) {
	code, _, stderr := runCLI("train", "--size", "32x32x3")
	if code != 2 || !strings.Contains(stderr, "--channels") {
		t.Errorf("--size 32x32x3: exit %d stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("train", "--size", "32x32", "--quiet", "--offline")
	if code != 1 || !strings.Contains(stderr, "size 32x32 is not supported") || strings.Contains(stderr, "x0") {
		t.Errorf("mnist --size 32x32: exit %d stderr %q", code, stderr)
	}
}

// The hint printed on Ctrl-C repeats the command line with --resume.
func TestInterruptHint(t *testing.T) {
	dir := t.TempDir()
	if h := interruptHint(nil, ""); !strings.Contains(h, "--out") {
		t.Errorf("no --out: %q", h)
	}
	if h := interruptHint(nil, dir); !strings.Contains(h, "nothing in") {
		t.Errorf("no checkpoint yet: %q", h)
	}
	ck := filepath.Join(dir, "checkpoint.safetensors")
	os.WriteFile(ck, []byte("x"), 0o644)
	h := interruptHint([]string{"--dataset", "my photos", "--resume", "old.safetensors", "--out", dir, "--epochs", "40"}, dir)
	want := "dlcv train --dataset 'my photos' --out " + dir + " --epochs 40 --resume " + ck
	if !strings.Contains(h, want) {
		t.Errorf("hint %q, want %q", h, want)
	}
}
