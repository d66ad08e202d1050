package pipeline

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzParseAugment feeds arbitrary --augment specs to ParseAugment: it
// returns a valid augmentation or an error, and an augmentation it returns
// transforms an image into finite pixels.
func FuzzParseAugment(f *testing.F) {
	for _, seed := range []string{"flip,shift=0.1,rotate=30,zoom=0.2", "wshift=0.5,hshift=1", "rotate=NaN", "zoom=+Inf", "shift=1e-320", ",,flip,", "rotate=180,zoom=0.999"} {
		f.Add(seed)
	}
	src := make([]float32, 5*4*3)
	for i := range src {
		src[i] = float32(i) / 60
	}
	dst := make([]float32, len(src))
	f.Fuzz(func(t *testing.T, spec string) {
		a, err := ParseAugment(spec)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("%q: accepted an invalid augmentation: %v", spec, err)
		}
		for _, v := range []float64{a.WidthShift, a.HeightShift, a.Rotation, a.Zoom} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: accepted %+v", spec, a)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 4 {
			a.Apply(dst, src, 5, 4, 3, rng)
			for _, v := range dst {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%q: %+v made a non-finite pixel", spec, a)
				}
			}
		}
	})
}
