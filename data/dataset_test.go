package data

import (
	"math"
	"slices"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

// synthetic returns a dataset whose sample i is filled with the value i,
// with counts[c] samples of class c (classes interleaved).
func synthetic(counts []int, h, w, c int) *Dataset {
	var y []int
	for left := slices.Clone(counts); ; {
		added := false
		for cl := range left {
			if left[cl] > 0 {
				y = append(y, cl)
				left[cl]--
				added = true
			}
		}
		if !added {
			break
		}
	}
	x := tensor.New(len(y), h, w, c)
	per := h * w * c
	for i := range y {
		for k := range per {
			x.Data[i*per+k] = float32(i)
		}
	}
	names := make([]string, len(counts))
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	return &Dataset{X: x, Y: y, Classes: names}
}

func TestSplitStratified(t *testing.T) {
	d := synthetic([]int{100, 40, 10, 6, 1}, 2, 2, 1)
	train, test, err := Split(d, 0.25, 42)
	if err != nil {
		t.Fatal(err)
	}
	// round(n*0.25), halves up: 25, 10, 3 (2.5), 2 (1.5), 0 (0.25)
	wantTest := []int{25, 10, 3, 2, 0}
	if got := test.ClassCounts(); !slices.Equal(got, wantTest) {
		t.Errorf("test counts %v, want %v", got, wantTest)
	}
	if got := train.ClassCounts(); !slices.Equal(got, []int{75, 30, 7, 4, 1}) {
		t.Errorf("train counts %v", got)
	}
	// Every sample lands in exactly one part, with its label, in order.
	seen := map[int]bool{}
	for _, part := range []*Dataset{train, test} {
		prev := -1
		for i := range part.Len() {
			id := int(part.X.Data[i*4])
			if seen[id] || d.Y[id] != part.Y[i] || id <= prev {
				t.Fatalf("sample %d duplicated, mislabelled or out of order", id)
			}
			seen[id] = true
			prev = id
		}
	}
	if len(seen) != d.Len() {
		t.Errorf("%d of %d samples placed", len(seen), d.Len())
	}
	// Same seed, same split; another seed, another split.
	_, test2, _ := Split(d, 0.25, 42)
	_, test3, _ := Split(d, 0.25, 43)
	if !slices.Equal(test.X.Data, test2.X.Data) {
		t.Error("split not deterministic")
	}
	if slices.Equal(test.X.Data, test3.X.Data) {
		t.Error("seed ignored")
	}
	if _, _, err := Split(d, 1.5, 1); err == nil {
		t.Error("fraction 1.5 accepted")
	}
	if _, _, err := Split(d, math.NaN(), 1); err == nil {
		t.Error("NaN fraction accepted")
	}
}

func TestClassWeightsLikeSklearn(t *testing.T) {
	// sklearn: compute_class_weight("balanced", classes=[0,1,2], y=[0]*6+[1]*3+[2]) = [0.5556, 1.1111, 3.3333]
	y := []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 2}
	w := ClassWeights(y, 3)
	want := []float64{10.0 / 18, 10.0 / 9, 10.0 / 3}
	for i := range want {
		if math.Abs(float64(w[i])-want[i]) > 1e-6 {
			t.Errorf("weight %d = %v, want %v", i, w[i], want[i])
		}
	}
	if w := ClassWeights([]int{0, 0}, 2); w[1] != 0 || w[0] != 0.5 {
		t.Errorf("absent class: %v", w)
	}
}

func TestValidate(t *testing.T) {
	d := synthetic([]int{2, 2}, 1, 1, 1)
	d.Y[0] = 5
	if err := d.Validate(); err == nil {
		t.Error("label 5 of 2 classes accepted")
	}
	d.Y = d.Y[:3]
	if err := d.Validate(); err == nil {
		t.Error("label count mismatch accepted")
	}
}
