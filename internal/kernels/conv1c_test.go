package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Conv1Chan must match im2col followed by the reference GEMM (and a ReLU).
func TestConv1ChanMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, s := range []struct{ n, h, w, kh, kw, pt, pb, pl, pr, f int }{
		{2, 28, 28, 5, 5, 2, 2, 2, 2, 20}, // LeNet's conv1
		{1, 9, 10, 3, 3, 0, 0, 0, 0, 16},
		{3, 8, 8, 3, 3, 1, 1, 1, 1, 17},
		{1, 7, 12, 5, 3, 2, 1, 0, 3, 32},
		{2, 10, 13, 1, 1, 0, 0, 0, 0, 5},
		{1, 6, 9, 4, 2, 1, 2, 1, 0, 1},
	} {
		oh, ow := s.h+s.pt+s.pb-s.kh+1, s.w+s.pl+s.pr-s.kw+1
		x := make([]float32, s.n*s.h*s.w)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		wts := make([]float32, s.kh*s.kw*s.f)
		bias := make([]float32, s.f)
		for i := range wts {
			wts[i] = rng.Float32()*2 - 1
		}
		for i := range bias {
			bias[i] = rng.Float32() - 0.5
		}
		k := s.kh * s.kw
		col := make([]float32, s.n*oh*ow*k)
		Im2col(col, x, s.n, s.h, s.w, 1, s.kh, s.kw, 1, 1, s.pt, s.pl, oh, ow)
		want := make([]float32, s.n*oh*ow*s.f)
		for r := 0; r < len(want); r += s.f {
			copy(want[r:r+s.f], bias)
		}
		sgemmRef(false, false, s.n*oh*ow, s.f, k, 1, col, k, wts, s.f, 1, want, s.f)
		for _, relu := range []bool{false, true} {
			got := make([]float32, len(want))
			for i := range got {
				got[i] = float32(math.NaN()) // every value must be written
			}
			scratch := make([]float32, PaddedLen(oh, ow, s.kh, s.kw))
			if !Conv1Chan(got, x, s.n, s.h, s.w, s.pt, s.pl, oh, ow, s.kh, s.kw, wts, bias, s.f, relu, scratch) {
				if conv1cOK(s.f, ow) {
					t.Fatalf("%+v: Conv1Chan declined a supported shape", s)
				}
				continue
			}
			for i, w := range want {
				if relu {
					w = max(w, 0)
				}
				if math.Abs(float64(got[i]-w)) > 1e-5 {
					t.Fatalf("%+v relu=%v: y[%d] = %v, want %v", s, relu, i, got[i], w)
				}
			}
		}
	}
}

// Conv1ChanGrad must match patches^T dY (im2col and the reference GEMM),
// added to what dw held.
func TestConv1ChanGradMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, s := range []struct{ n, h, w, kh, kw, pt, pb, pl, pr, f int }{
		{2, 28, 28, 5, 5, 2, 2, 2, 2, 20},
		{1, 9, 10, 3, 3, 0, 0, 0, 0, 16},
		{3, 8, 7, 3, 8, 1, 1, 1, 3, 17},
		{1, 7, 12, 5, 1, 2, 1, 0, 0, 32},
		{2, 3, 4, 2, 2, 0, 0, 0, 0, 1},
		{1, 5, 5, 3, 9, 1, 1, 4, 4, 4}, // kw > 8: not supported
	} {
		oh, ow := s.h+s.pt+s.pb-s.kh+1, s.w+s.pl+s.pr-s.kw+1
		x := make([]float32, s.n*s.h*s.w)
		dy := make([]float32, s.n*oh*ow*s.f)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		for i := range dy {
			dy[i] = rng.Float32()*2 - 1
		}
		k := s.kh * s.kw
		col := make([]float32, s.n*oh*ow*k)
		Im2col(col, x, s.n, s.h, s.w, 1, s.kh, s.kw, 1, 1, s.pt, s.pl, oh, ow)
		want := make([]float32, k*s.f)
		got := make([]float32, k*s.f)
		for i := range want {
			want[i] = float32(i % 5)
			got[i] = want[i]
		}
		sgemmRef(true, false, k, s.f, s.n*oh*ow, 1, col, k, dy, s.f, 1, want, s.f)
		scratch := make([]float32, PaddedLen(oh, ow, s.kh, s.kw))
		if !Conv1ChanGrad(got, x, dy, s.n, s.h, s.w, s.pt, s.pl, oh, ow, s.kh, s.kw, s.f, scratch) {
			if conv1cGradOK(s.f, s.kw) {
				t.Fatalf("%+v: Conv1ChanGrad declined a supported shape", s)
			}
			continue
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-3 {
				t.Fatalf("%+v: dw[%d] = %v, want %v", s, i, got[i], want[i])
			}
		}
	}
}
