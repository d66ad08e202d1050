package data

import (
	"slices"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
)

// ramp is an h x w x c image with distinct values.
func ramp(h, w, c int) []float32 {
	s := make([]float32, h*w*c)
	for i := range s {
		s[i] = float32(i%97) / 97
	}
	return s
}

func TestFlipTwiceIsIdentity(t *testing.T) {
	src := ramp(5, 7, 3)
	a, b := make([]float32, len(src)), make([]float32, len(src))
	Transform{Flip: true}.Apply(a, src, 5, 7, 3, FillNearest, 0)
	if slices.Equal(a, src) {
		t.Fatal("flip changed nothing")
	}
	if a[0] != src[6*3] || a[2] != src[6*3+2] {
		t.Errorf("flip: first pixel %v, want last of row %v", a[:3], src[18:21])
	}
	Transform{Flip: true}.Apply(b, a, 5, 7, 3, FillNearest, 0)
	if !slices.Equal(b, src) {
		t.Error("flip twice is not the identity")
	}
	// The general (resampling) path agrees with the fast path.
	Transform{Flip: true, Scale: 1, Angle: 1e-12}.Apply(b, src, 5, 7, 3, FillNearest, 0)
	for i := range a {
		if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("resampled flip differs at %d: %v vs %v", i, b[i], a[i])
		}
	}
}

func TestIdentityTransforms(t *testing.T) {
	src := ramp(6, 6, 2)
	dst := make([]float32, len(src))
	for _, tr := range []Transform{{}, {Scale: 1}, {Angle: 0, DX: 0}} {
		tr.Apply(dst, src, 6, 6, 2, FillConstant, -1)
		if !slices.Equal(dst, src) {
			t.Errorf("%+v is not the identity", tr)
		}
	}
	// A full turn is the identity up to rounding.
	Transform{Angle: 360}.Apply(dst, src, 6, 6, 2, FillNearest, 0)
	for i := range src {
		if d := dst[i] - src[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("rotation 360 changed value %d: %v -> %v", i, src[i], dst[i])
		}
	}
}

func TestShiftByKnownPixels(t *testing.T) {
	h, w := 4, 6
	src := ramp(h, w, 1)
	dst := make([]float32, len(src))
	Transform{DX: 2, DY: 1}.Apply(dst, src, h, w, 1, FillConstant, -1)
	for y := range h {
		for x := range w {
			want := float32(-1)
			if x >= 2 && y >= 1 {
				want = src[(y-1)*w+x-2]
			}
			if dst[y*w+x] != want {
				t.Fatalf("(%d,%d) = %v, want %v", y, x, dst[y*w+x], want)
			}
		}
	}
	// Nearest fill repeats the edge: shift left by 1, last column = old last column.
	Transform{DX: -1}.Apply(dst, src, h, w, 1, FillNearest, 0)
	for y := range h {
		if dst[y*w+w-1] != src[y*w+w-1] || dst[y*w] != src[y*w+1] {
			t.Fatalf("row %d: %v from %v", y, dst[y*w:(y+1)*w], src[y*w:(y+1)*w])
		}
	}
}

func TestRotate90(t *testing.T) {
	// 3x3, one bright pixel below the centre: a +90° (anticlockwise) turn
	// moves it right of the centre.
	src := make([]float32, 9)
	src[2*3+1] = 1
	dst := make([]float32, 9)
	Transform{Angle: 90}.Apply(dst, src, 3, 3, 1, FillConstant, 0)
	if dst[1*3+2] < 0.999 || dst[2*3+1] > 1e-6 {
		t.Errorf("rotated: %v", dst)
	}
	// Zoom 2 samples twice as far from the centre: corners come from outside.
	Transform{Scale: 2}.Apply(dst, ramp(3, 3, 1), 3, 3, 1, FillConstant, -1)
	if dst[4] != ramp(3, 3, 1)[4] || dst[0] != -1 {
		t.Errorf("zoomed: %v", dst)
	}
}

func TestAugmentDeterministic(t *testing.T) {
	a := Augment{FlipHorizontal: true, WidthShift: 0.2, HeightShift: 0.2, Rotation: 30, Zoom: 0.2}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	src := ramp(8, 8, 3)
	run := func(seed uint64) []float32 {
		rng := nn.NewRNG(seed)
		out := make([]float32, 0, 5*len(src))
		dst := make([]float32, len(src))
		for range 5 {
			a.Apply(dst, src, 8, 8, 3, rng)
			out = append(out, dst...)
		}
		return out
	}
	x, y, z := run(1), run(1), run(2)
	if !slices.Equal(x, y) {
		t.Error("same seed, different augmentations")
	}
	if slices.Equal(x, z) || slices.Equal(x[:len(src)], src) {
		t.Error("augmentation does nothing or ignores the seed")
	}
	if (Augment{Zoom: 1}).Validate() == nil || (Augment{WidthShift: -1}).Validate() == nil {
		t.Error("bad ranges accepted")
	}
}
