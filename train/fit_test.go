package train

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

// lines makes n 8x8 images of three classes (horizontal, vertical and
// diagonal strokes at random positions) with noise.
func lines(n int, seed uint64) *data.Dataset {
	rng := nn.NewRNG(seed)
	x := tensor.New(n, 8, 8, 1)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % 3
		y[i] = c
		img := x.Data[i*64 : (i+1)*64]
		for j := range img {
			img[j] = float32(rng.Float64() * 0.3)
		}
		p := 1 + rng.IntN(6)
		for k := 0; k < 8; k++ {
			switch c {
			case 0:
				img[p*8+k] = 1
			case 1:
				img[k*8+p] = 1
			case 2:
				img[k*8+k] = 1
			}
		}
	}
	return &data.Dataset{X: x, Y: y, Classes: []string{"horizontal", "vertical", "diagonal"}}
}

func smallNet(t *testing.T, dropout bool) *nn.Sequential {
	t.Helper()
	ls := []nn.Layer{nn.NewConv2D(4, 3, 1, nn.Same), nn.NewReLU(), nn.NewMaxPool2D(2, 2), nn.NewFlatten()}
	if dropout {
		ls = append(ls, nn.NewDropout(0.2))
	}
	ls = append(ls, nn.NewDense(3), nn.NewSoftmax())
	m := nn.NewSequential(ls...)
	if err := m.Build([]int{8, 8, 1}, 1); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFitLearns(t *testing.T) {
	tr, val := lines(240, 1), lines(90, 2)
	m := smallNet(t, false)
	var log bytes.Buffer
	h, err := Fit(m, tr, val, Config{Epochs: 8, BatchSize: 16, Seed: 3, Optimizer: optim.NewSGD(0.1, 0.9, false), Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	last := h.Epochs[len(h.Epochs)-1]
	if last.ValAccuracy < 0.9 || last.Loss >= h.Epochs[0].Loss {
		t.Fatalf("did not learn: %+v\n%s", h.Epochs, log.String())
	}
	if !strings.Contains(log.String(), "Epoch 8/8") || !strings.Contains(log.String(), "val_accuracy") {
		t.Fatalf("progress output:\n%s", log.String())
	}
	r, err := Evaluate(m, val, 32, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Accuracy-last.ValAccuracy) > 1e-9 || len(r.Pred) != val.Len() {
		t.Fatalf("Evaluate accuracy %v, history %v", r.Accuracy, last.ValAccuracy)
	}
}

func TestFitDeterministicAndResume(t *testing.T) {
	tr := lines(96, 4)
	cfg := func() Config {
		return Config{Epochs: 4, BatchSize: 10, Seed: 9, Optimizer: optim.NewAdam(0.01, 0, 0, 0),
			Augment: &data.Augment{FlipHorizontal: true}}
	}
	m1 := smallNet(t, true)
	h1, err := Fit(m1, tr, nil, cfg())
	if err != nil {
		t.Fatal(err)
	}
	m2 := smallNet(t, true)
	h2, err := Fit(m2, tr, nil, cfg())
	if err != nil {
		t.Fatal(err)
	}
	for i := range h1.Epochs {
		if h1.Epochs[i].Loss != h2.Epochs[i].Loss {
			t.Fatalf("same seed, different loss at epoch %d: %v vs %v", i+1, h1.Epochs[i].Loss, h2.Epochs[i].Loss)
		}
	}
	// Interrupted run: 2 epochs with a checkpoint, then resume to 4.
	ck := filepath.Join(t.TempDir(), "ck.safetensors")
	m3 := smallNet(t, true)
	c := cfg()
	c.Epochs = 2
	c.Callbacks = []Callback{&ModelCheckpoint{Path: ck}}
	if _, err := Fit(m3, tr, nil, c); err != nil {
		t.Fatal(err)
	}
	cp, err := LoadCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Epoch != 2 || cp.OptimizerName() != "adam" {
		t.Fatalf("checkpoint epoch %d optimizer %q", cp.Epoch, cp.OptimizerName())
	}
	m4 := smallNet(t, true)
	c = cfg()
	c.Resume = cp
	h4, err := Fit(m4, tr, nil, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(h4.Epochs) != 4 {
		t.Fatalf("resumed history has %d epochs", len(h4.Epochs))
	}
	for i := range h1.Epochs {
		if h1.Epochs[i].Loss != h4.Epochs[i].Loss {
			t.Fatalf("resumed run differs at epoch %d: %v vs %v", i+1, h4.Epochs[i].Loss, h1.Epochs[i].Loss)
		}
	}
	p1, p4 := m1.Params(), m4.Params()
	for i := range p1 {
		for j := range p1[i].Value.Data {
			if p1[i].Value.Data[j] != p4[i].Value.Data[j] {
				t.Fatalf("param %d differs after resume", i)
			}
		}
	}
}

func TestFitStopsOnNaN(t *testing.T) {
	tr := lines(60, 5)
	for i := range tr.X.Data[:64] {
		tr.X.Data[i] = float32(math.Inf(1))
	}
	m := smallNet(t, false)
	_, err := Fit(m, tr, nil, Config{Epochs: 2, BatchSize: 60, Seed: 1})
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "epoch 1, batch 1") {
		t.Fatalf("want non-finite error naming epoch and batch, got %v", err)
	}
}

func TestEarlyStoppingAndBestCheckpoint(t *testing.T) {
	tr, val := lines(60, 6), lines(30, 7)
	m := smallNet(t, false)
	dir := t.TempDir()
	es := &EarlyStopping{Metric: "val_loss", Patience: 1}
	ck := &ModelCheckpoint{Path: filepath.Join(dir, "best-{epoch}.safetensors"), Metric: "val_accuracy", BestOnly: true}
	// A learning rate of 0 never improves: stops after epoch 1 + patience + 1.
	var log bytes.Buffer
	frozen := optim.NewSGD(0.01, 0, false)
	frozen.SetLearningRate(0)
	h, err := Fit(m, tr, val, Config{Epochs: 10, BatchSize: 20, Optimizer: frozen, Callbacks: []Callback{es, ck}, Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 3 || !strings.Contains(log.String(), "Early stopping after epoch 3") {
		t.Fatalf("epochs %d, log:\n%s", len(h.Epochs), log.String())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "best-1.safetensors" {
		t.Fatalf("checkpoints %v", ents)
	}
	if _, err := Fit(smallNet(t, false), tr, nil, Config{Epochs: 1, Callbacks: []Callback{&EarlyStopping{}}}); err == nil {
		t.Fatal("early stopping on val_loss without validation data must fail")
	}
}

func TestLRScheduleAndHistoryFiles(t *testing.T) {
	tr := lines(30, 8)
	m := smallNet(t, false)
	h, err := Fit(m, tr, nil, Config{Epochs: 3, BatchSize: 10, Callbacks: []Callback{&LRSchedule{Schedule: optim.StepDecay(0.1, 0.5, 1)}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.1, 0.05, 0.025}
	for i, e := range h.Epochs {
		if math.Abs(e.LearningRate-want[i]) > 1e-12 {
			t.Fatalf("epoch %d lr %v want %v", i+1, e.LearningRate, want[i])
		}
	}
	dir := t.TempDir()
	if err := h.SaveJSON(filepath.Join(dir, "h.json")); err != nil {
		t.Fatal(err)
	}
	if err := h.SaveCSV(filepath.Join(dir, "h.csv")); err != nil {
		t.Fatal(err)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "h.json"))
	if !strings.Contains(string(js), `"val_loss": null`) {
		t.Fatalf("NaN must be null in JSON:\n%s", js)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "h.csv"))
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 4 || lines[0] != "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds" {
		t.Fatalf("csv:\n%s", csv)
	}
}

func TestFitShapeErrors(t *testing.T) {
	m := smallNet(t, false)
	d := lines(10, 1)
	d.Classes = append(d.Classes, "extra")
	if _, err := Fit(m, d, nil, Config{Epochs: 1}); err == nil || !strings.Contains(err.Error(), "4 classes") {
		t.Fatalf("got %v", err)
	}
	d = &data.Dataset{X: tensor.New(3, 9, 9, 1), Y: []int{0, 1, 2}, Classes: []string{"a", "b", "c"}}
	if _, err := Fit(m, d, nil, Config{Epochs: 1}); err == nil || !strings.Contains(err.Error(), "(9, 9, 1)") {
		t.Fatalf("got %v", err)
	}
}
