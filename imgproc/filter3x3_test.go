package imgproc

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
)

// TestFilter3x3MatchesFloat64 checks the 3x3 path on every width 1..70,
// odd and tiny heights, each border mode, with and without Flip, on 1 and
// 3 threads, against a float64 sum: within 11 float32 roundings of the
// sum of the terms' magnitudes.
func TestFilter3x3MatchesFloat64(t *testing.T) {
	rng := nn.NewRNG(12)
	dense := Kernel{Name: "dense", W: 3, H: 3, Data: make([]float64, 9)}
	for i := range dense.Data {
		dense.Data[i] = math.Sin(float64(i+1)) * 1.7
	}
	sharpen, _ := Named("sharpen")
	sobelY, _ := Named("sobel-y")
	kernelsUnderTest := []Kernel{dense, sharpen, sobelY, Box("box3", 3)}
	for _, k := range kernelsUnderTest {
		if m := ChooseMethod(k); m != Direct {
			t.Fatalf("%s: method %v, want direct", k.Name, m)
		}
	}
	for w := 1; w <= 70; w++ {
		for _, h := range []int{1, 2, 3, 7, 33} {
			src := randPlane(rng, w, h)
			for i := range src.Pix {
				src.Pix[i] -= 100 // signs of both kinds
			}
			for _, k := range kernelsUnderTest {
				for _, b := range []Border{BorderReflect101, BorderReplicate, BorderZero} {
					for _, flip := range []bool{false, true} {
						kk := k
						if flip {
							kk = k.Flipped()
						}
						for _, threads := range []int{1, 3} {
							what := fmt.Sprintf("%dx%d %s %v flip=%v threads=%d", w, h, k.Name, b, flip, threads)
							got, err := Filter2D(src, k, Options{Border: b, Flip: flip, Threads: threads})
							if err != nil {
								t.Fatal(err)
							}
							check3x3(t, what, got, src, kk, b)
						}
					}
				}
			}
		}
	}
}

// check3x3 compares got with the float64 correlation of src with k.
func check3x3(t *testing.T, what string, got, src Plane, k Kernel, b Border) {
	t.Helper()
	for y := range src.H {
		for x := range src.W {
			want, mag := 0.0, 0.0
			for m := range 3 {
				for n := range 3 {
					sy, sx := borderIndex(y+m-1, src.H, b), borderIndex(x+n-1, src.W, b)
					if sy >= 0 && sx >= 0 {
						p := k.At(m, n) * float64(src.At(sx, sy))
						want += p
						mag += math.Abs(p)
					}
				}
			}
			if d := math.Abs(float64(got.At(x, y)) - want); d > 11*0x1p-24*mag {
				t.Fatalf("%s: (%d,%d) = %v, want %v", what, x, y, got.At(x, y), want)
			}
		}
	}
}

// TestFilter3x3NonFinite: zero weights are skipped, as by cv2.filter2D,
// so a NaN or infinity in the image spreads only along the kernel's
// nonzero taps.
func TestFilter3x3NonFinite(t *testing.T) {
	src := randPlane(nn.NewRNG(3), 41, 9)
	src.Pix[4*41+20] = float32(math.Inf(1))
	src.Pix[0] = float32(math.NaN())
	for _, name := range []string{"sharpen", "sobel-x", "laplacian"} {
		k, _ := Named(name)
		for _, b := range []Border{BorderReflect101, BorderReplicate, BorderZero} {
			got, err := Filter2D(src, k, Options{Border: b})
			if err != nil {
				t.Fatal(err)
			}
			for y := range src.H {
				for x := range src.W {
					var want float64
					for m := range 3 {
						for n := range 3 {
							sy, sx := borderIndex(y+m-1, src.H, b), borderIndex(x+n-1, src.W, b)
							if v := k.At(m, n); v != 0 && sy >= 0 && sx >= 0 {
								want += v * float64(src.At(sx, sy))
							}
						}
					}
					if g, w := classify(got.At(x, y)), classify(float32(want)); g != w {
						t.Fatalf("%s %v pixel (%d,%d): %v, want %v", name, b, x, y, got.At(x, y), want)
					}
				}
			}
		}
	}
}

func classify(v float32) string {
	switch {
	case math.IsNaN(float64(v)):
		return "NaN"
	case math.IsInf(float64(v), 0):
		return fmt.Sprint(v)
	}
	return "finite"
}

// TestFilter3x3LargeThreaded covers the split over goroutines on an image
// large enough to be cut into many bands.
func TestFilter3x3LargeThreaded(t *testing.T) {
	src := randPlane(nn.NewRNG(5), 517, 301)
	k, _ := Named("emboss")
	for _, threads := range []int{2, 5} {
		got, err := Filter2D(src, k, Options{Border: BorderReplicate, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		check3x3(t, fmt.Sprintf("517x301 emboss threads=%d", threads), got, src, k, BorderReplicate)
	}
}

// TestFilter2DInto: the same values as Filter2D, every path; the 3x3 path
// allocates nothing; bad outputs are refused.
func TestFilter2DInto(t *testing.T) {
	src := randPlane(nn.NewRNG(9), 67, 45)
	g, _ := Gaussian(1.1)
	sharpen, _ := Named("sharpen")
	dense := Kernel{Name: "dense5", W: 5, H: 5, Data: make([]float64, 25)}
	for i := range dense.Data {
		dense.Data[i] = math.Cos(float64(i))
	}
	for _, k := range []Kernel{sharpen, Box("box5", 5), g, dense} {
		for _, opt := range []Options{{}, {Border: BorderZero, Flip: true, Threads: 3}} {
			want, err := Filter2D(src, k, opt)
			if err != nil {
				t.Fatal(err)
			}
			got := randPlane(nn.NewRNG(1), src.W, src.H) // every value overwritten
			if err := Filter2DInto(got, src, k, opt); err != nil {
				t.Fatal(err)
			}
			for i, v := range got.Pix {
				if v != want.Pix[i] {
					t.Fatalf("%s %+v: pixel %d = %v, Filter2D %v", k.Name, opt, i, v, want.Pix[i])
				}
			}
		}
	}
	big := randPlane(nn.NewRNG(2), 300, 200) // large enough to be split over threads
	dst := NewPlane(big.W, big.H)
	for _, threads := range []int{1, 2} {
		if n := testing.AllocsPerRun(10, func() { Filter2DInto(dst, big, sharpen, Options{Threads: threads}) }); n > 0 {
			t.Errorf("3x3 into a given plane, %d threads: %v allocations per call, want none", threads, n)
		}
	}
	for _, c := range []struct {
		dst  Plane
		want string
	}{
		{NewPlane(src.W, src.H+1), "output is 67x46, input 67x45"},
		{Plane{W: src.W, H: src.H, Pix: src.Pix}, "overlaps"},
		{Plane{W: src.W, H: src.H - 1, Pix: src.Pix[src.W:]}, "output is 67x44"},
		{Plane{W: 2, H: 2}, "filter2d output: 2x2 plane has 0 values"},
	} {
		err := Filter2DInto(c.dst, src, sharpen, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Filter2DInto(%dx%d): error %v, want %q", c.dst.W, c.dst.H, err, c.want)
		}
	}
	shifted := Plane{W: src.W - 1, H: src.H, Pix: src.Pix[1 : 1+(src.W-1)*src.H]}
	if err := Filter2DInto(shifted, Plane{W: src.W - 1, H: src.H, Pix: src.Pix[:(src.W-1)*src.H]}, sharpen, Options{}); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("partly overlapping output: error %v", err)
	}
}
