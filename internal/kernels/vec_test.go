package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAxpyScalDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{0, 1, 3, 4, 5, 8, 17, 31, 32, 33, 100, 1000} {
		x, y := randSlice(rng, n), randSlice(rng, n)
		y0 := append([]float32(nil), y...)
		Axpy(-1.5, x, y)
		var want float64
		for i := range x {
			if d := y[i] - (y0[i] - 1.5*x[i]); math.Abs(float64(d)) > 1e-6 {
				t.Fatalf("Axpy n=%d: y[%d]=%g, want %g", n, i, y[i], y0[i]-1.5*x[i])
			}
			want += float64(x[i]) * float64(y[i])
		}
		if got := Dot(x, y); math.Abs(float64(got)-want) > 1e-5*float64(n+1) {
			t.Fatalf("Dot n=%d = %g, want %g", n, got, want)
		}
		x0 := append([]float32(nil), x...)
		Scal(3, x)
		for i := range x {
			if x[i] != 3*x0[i] {
				t.Fatalf("Scal n=%d: x[%d]=%g, want %g", n, i, x[i], 3*x0[i])
			}
		}
	}
}

func TestAddBiasSumRows(t *testing.T) {
	c := []float32{1, 2, 3, 4, 5, 6} // 2 rows of 3
	AddBias(c, []float32{10, 20, 30})
	want := []float32{11, 22, 33, 14, 25, 36}
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("AddBias: %v, want %v", c, want)
		}
	}
	dst := []float32{1, 1, 1}
	SumRows(dst, c, 3)
	for i, w := range []float32{26, 48, 70} {
		if dst[i] != w {
			t.Fatalf("SumRows: %v, want [26 48 70]", dst)
		}
	}
}

func TestVecPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Axpy":    func() { Axpy(1, make([]float32, 2), make([]float32, 3)) },
		"Dot":     func() { Dot(make([]float32, 2), make([]float32, 3)) },
		"AddBias": func() { AddBias(make([]float32, 5), make([]float32, 2)) },
		"SumRows": func() { SumRows(make([]float32, 2), make([]float32, 5), 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on mismatched lengths", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkVec measures the vector helpers on LeNet-sized data: a 4096
// element vector (in cache) and conv2's output gradient, 25088 x 50.
func BenchmarkVec(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randSlice(rng, 4096), randSlice(rng, 4096)
	c, bias := randSlice(rng, 25088*50), randSlice(rng, 50)
	run := func(name string, n int, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
	run("Axpy/4096", 4096, func() { Axpy(0.5, x, y) })
	run("Dot/4096", 4096, func() { Dot(x, y) })
	run("AddBias/25088x50", len(c), func() { AddBias(c, bias) })
	run("SumRows/25088x50", len(c), func() { SumRows(bias, c, 50) })
}
