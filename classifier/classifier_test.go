package classifier

import (
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/zoo"
)

func TestSaveLoadPredict(t *testing.T) {
	net, err := zoo.New("shallownet", []int{8, 8, 3}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Net: net, Classes: []string{"cat", "dog", "panda"}, Preprocess: data.Preprocess{Width: 8, Height: 8, Channels: 3}, Arch: "shallownet", Training: []byte(`{"seed":1}`)}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m2.Classes, ",") != "cat,dog,panda" || m2.Arch != "shallownet" || string(m2.Training) != `{"seed":1}` {
		t.Fatalf("loaded %+v", m2)
	}
	img := image.NewRGBA(image.Rect(0, 0, 30, 20))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	p1, err := m.PredictImage(img, 0)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := m2.PredictImage(img, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p1) != 3 || len(p2) != 2 || p1[0] != p2[0] || p1[1] != p2[1] {
		t.Fatalf("predictions differ: %v vs %v", p1, p2)
	}
	sum := 0.0
	for _, q := range p1 {
		sum += q.Probability
	}
	if sum < 0.999 || sum > 1.001 || p1[0].Probability < p1[1].Probability {
		t.Fatalf("probabilities %v", p1)
	}
	if _, err := m.PredictImage(image.NewGray(image.Rect(0, 0, 0, 0)), 1); err == nil {
		t.Fatal("empty image accepted")
	}
}

func TestCheckMismatch(t *testing.T) {
	net, _ := zoo.New("shallownet", []int{8, 8, 3}, 3, 1)
	m := &Model{Net: net, Classes: []string{"a", "b"}, Preprocess: data.Preprocess{Width: 8, Height: 8, Channels: 3}}
	if err := m.Save(filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "2 class names") {
		t.Fatalf("got %v", err)
	}
	m.Classes = []string{"a", "b", "c"}
	m.Preprocess.Channels = 1
	if err := m.Check(); err == nil || !strings.Contains(err.Error(), "(8, 8, 1)") {
		t.Fatalf("got %v", err)
	}
}

func TestTopK(t *testing.T) {
	ps := TopK([]float32{0.1, 0.7, 0.2}, []string{"a", "b", "c"}, 2)
	if len(ps) != 2 || ps[0].Label != "b" || ps[1].Label != "c" || ps[0].Index != 1 {
		t.Fatalf("%v", ps)
	}
}
