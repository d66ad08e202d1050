package imgproc

import (
	"fmt"
	"math"
	"testing"
)

// benchKernels are the kernels bench/imgproc/run.sh times against
// cv2.filter2D; "dense" kernels have weights sin(1), sin(2), ... row-major
// (not separable), defined the same way in bench/imgproc/cv2_filter2d.py.
func benchKernels() []Kernel {
	dense := func(n int) Kernel {
		k := Kernel{Name: fmt.Sprintf("dense%d", n), W: n, H: n, Data: make([]float64, n*n)}
		for i := range k.Data {
			k.Data[i] = math.Sin(float64(i + 1))
		}
		return k
	}
	sharpen, _ := Named("sharpen")
	sobel, _ := Named("sobel-x")
	box := Box("box21", 21)
	gauss, _ := Gaussian(3.3) // 21x21
	gauss.Name = "gauss21"
	return []Kernel{dense(3), sharpen, sobel, box, gauss, dense(21)}
}

// benchImage is 1920x1080 with values (7x + 13y) mod 256.
func benchImage() Plane {
	p := NewPlane(1920, 1080)
	for y := range p.H {
		for x := range p.W {
			p.Pix[y*p.W+x] = float32((7*x + 13*y) % 256)
		}
	}
	return p
}

func BenchmarkFilter2D(b *testing.B) {
	src := benchImage()
	for _, k := range benchKernels() {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("k=%s/threads=%d", k.Name, threads), func(b *testing.B) {
				opt := Options{Threads: threads}
				Filter2D(src, k, opt) // warm up: fault in fresh output pages
				b.SetBytes(int64(4 * len(src.Pix)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Filter2D(src, k, opt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkFilter2DInto is BenchmarkFilter2D for the 3x3 kernels writing
// into one output plane (cv2.filter2D with dst=), so neither side
// allocates or clears an output per call.
func BenchmarkFilter2DInto(b *testing.B) {
	src := benchImage()
	dst := NewPlane(src.W, src.H)
	for _, k := range benchKernels() {
		if k.W != 3 {
			continue
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("k=%s/threads=%d", k.Name, threads), func(b *testing.B) {
				opt := Options{Threads: threads}
				b.SetBytes(int64(4 * len(src.Pix)))
				b.ReportAllocs()
				for b.Loop() {
					if err := Filter2DInto(dst, src, k, opt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkNewPlane is the output allocation Filter2D makes per call (a
// zeroed 1920x1080 plane), alone: the floor under its time.
func BenchmarkNewPlane(b *testing.B) {
	src := benchImage()
	b.SetBytes(int64(4 * len(src.Pix)))
	b.ReportAllocs()
	var keep Plane
	for b.Loop() {
		keep = NewPlane(src.W, src.H)
	}
	_ = keep
}
