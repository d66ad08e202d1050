package data

import (
	"math"
	"slices"
	"strings"
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

// bytesDataset returns a dataset of 8-bit images with pseudo-random
// pixels, and the same images as float32 the way a loader scaling at load
// time makes them (float32(v)/255, minus the mean).
func bytesDataset(n, h, w, c int, mean []float32) (u8, f32 *Dataset) {
	pix := make([]uint8, n*h*w*c)
	s := uint32(7)
	for i := range pix {
		s = s*1664525 + 1013904223
		pix[i] = uint8(s >> 24)
	}
	y := make([]int, n)
	for i := range y {
		y[i] = i % 3
	}
	classes := []string{"a", "b", "c"}
	x := tensor.New(n, h, w, c)
	for i, v := range pix {
		x.Data[i] = float32(v) / 255
		if mean != nil {
			x.Data[i] -= mean[i%c]
		}
	}
	u8 = &Dataset{U8: &Uint8Images{Shape: []int{n, h, w, c}, Pix: pix, Mean: mean}, Y: y, Classes: classes}
	f32 = &Dataset{X: x, Y: slices.Clone(y), Classes: classes}
	return u8, f32
}

// 8-bit images give batches bit-identical to their float32 copy: plain,
// augmented (with both fills), one channel or three, with a mean.
func TestUint8BatchesMatchFloat32(t *testing.T) {
	for _, c := range []struct {
		h, w, ch int
		mean     []float32
		aug      *Augment
	}{
		{5, 4, 1, nil, nil},
		{5, 4, 3, []float32{0.49, 0.48, 0.45}, nil},
		{6, 6, 1, nil, &Augment{FlipHorizontal: true, WidthShift: 0.2, Rotation: 30, Zoom: 0.2}},
		{6, 5, 3, []float32{0.5, 0.25, 0.125}, &Augment{HeightShift: 0.3, Rotation: 45, Fill: FillConstant, FillValue: -0.5}},
	} {
		u8, f32 := bytesDataset(23, c.h, c.w, c.ch, c.mean)
		if err := u8.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(u8.Float32().Data, f32.X.Data) {
			t.Fatalf("%+v: Float32 differs from scaling at load time", c)
		}
		one := make([]float32, u8.SampleLen())
		u8.SampleTo(one, 7)
		if !slices.Equal(one, f32.X.Data[7*len(one):8*len(one)]) {
			t.Fatalf("%+v: SampleTo differs", c)
		}
		run := func(d *Dataset) []float32 {
			b, err := NewBatcher(d, 5, BatchOptions{Shuffle: true, Seed: 3, Augment: c.aug})
			if err != nil {
				t.Fatal(err)
			}
			var out []float32
			for range 2 {
				for batch := range b.Epoch() {
					out = append(out, batch.X.Data...)
					for _, y := range batch.Y {
						out = append(out, float32(y))
					}
				}
			}
			return out
		}
		if !slices.Equal(run(u8), run(f32)) {
			t.Errorf("%+v: batches from 8-bit images differ from float32", c)
		}
		// Split and Subset keep the storage and the values.
		tr, te, err := Split(u8, 0.25, 1)
		if err != nil {
			t.Fatal(err)
		}
		ftr, fte, _ := Split(f32, 0.25, 1)
		if tr.U8 == nil || tr.X != nil || !slices.Equal(tr.Float32().Data, ftr.X.Data) || !slices.Equal(te.Float32().Data, fte.X.Data) {
			t.Errorf("%+v: split of 8-bit images differs", c)
		}
		all, err := Concat(tr, te)
		if err != nil || all.Len() != u8.Len() || all.U8 == nil || !slices.Equal(all.Y, append(slices.Clone(tr.Y), te.Y...)) {
			t.Fatalf("concat: %v", err)
		}
		if _, err := Concat(tr, ftr); err == nil {
			t.Error("pooled 8-bit and float32 sets")
		}
	}
}

func TestUint8Validate(t *testing.T) {
	u8, f32 := bytesDataset(4, 2, 2, 3, nil)
	for name, c := range map[string]struct {
		d    *Dataset
		want string
	}{
		"both":  {&Dataset{X: f32.X, U8: u8.U8, Y: u8.Y, Classes: u8.Classes}, "both"},
		"rank":  {&Dataset{U8: &Uint8Images{Shape: []int{4, 12}, Pix: u8.U8.Pix}, Y: u8.Y, Classes: u8.Classes}, "(N,H,W,C)"},
		"short": {&Dataset{U8: &Uint8Images{Shape: []int{4, 2, 2, 3}, Pix: u8.U8.Pix[:40]}, Y: u8.Y, Classes: u8.Classes}, "40 pixel values"},
		"mean":  {&Dataset{U8: &Uint8Images{Shape: []int{4, 2, 2, 3}, Pix: u8.U8.Pix, Mean: []float32{1}}, Y: u8.Y, Classes: u8.Classes}, "1 mean values for 3 channels"},
		"label": {&Dataset{U8: u8.U8, Y: []int{0, 1, 2, 3}, Classes: u8.Classes}, "outside 0..2"},
		"count": {&Dataset{U8: u8.U8, Y: []int{0}, Classes: u8.Classes}, "4 images but 1 labels"},
		"none":  {&Dataset{Y: u8.Y, Classes: u8.Classes}, "nil"},
	} {
		if err := c.d.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
