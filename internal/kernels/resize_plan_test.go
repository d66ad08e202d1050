package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestResizePlanRangesAndReuse checks that a plan's work done in pieces
// (rows for Rows, images for Grad) equals the whole, that one plan reset
// for another geometry gives what a fresh one does, and that calls on a
// plan allocate nothing.
func TestResizePlanRangesAndReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var reused ResizePlan
	for _, g := range resizeGeoms() {
		if g.Nearest != RoundPreferFloor && g.Nearest != Ceil {
			continue // keep the test short; the modes are the tables'
		}
		g.N = 3
		for _, linear := range []bool{false, true} {
			src := make([]float32, g.N*g.H*g.W*g.C)
			dy := make([]float32, g.N*g.OH*g.OW*g.C)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			for i := range dy {
				dy[i] = float32(rng.NormFloat64())
			}
			want, wantDx := make([]float32, len(dy)), make([]float32, len(src))
			if linear {
				ResizeBilinear(want, src, g)
				ResizeBilinearGrad(wantDx, dy, g)
			} else {
				ResizeNearest(want, src, g)
				ResizeNearestGrad(wantDx, dy, g)
			}
			if err := reused.Reset(g, linear); err != nil {
				t.Fatal(err)
			}
			got, gotDx := make([]float32, len(dy)), make([]float32, len(src))
			rows := g.N * g.OH
			for r := 0; r < rows; r += 2 {
				reused.Rows(got, src, r, min(r+2, rows))
			}
			for b := range g.N {
				reused.Grad(gotDx, dy, b, b+1)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v linear %v: Rows value %d = %v, want %v", g, linear, i, got[i], want[i])
				}
			}
			for i := range wantDx {
				if math.Float32bits(gotDx[i]) != math.Float32bits(wantDx[i]) {
					t.Fatalf("%+v linear %v: Grad value %d = %v, want %v", g, linear, i, gotDx[i], wantDx[i])
				}
			}
			if a := testing.AllocsPerRun(5, func() {
				_ = reused.Reset(g, linear)
				reused.Rows(got, src, 0, rows)
				reused.Grad(gotDx, dy, 0, g.N)
			}); a != 0 {
				t.Fatalf("%+v: %v allocations per reset and run", g, a)
			}
		}
	}
	if err := reused.Reset(ResizeGeom{N: 1, H: 0, W: 3, C: 1, OH: 2, OW: 2}, true); err == nil {
		t.Error("Reset accepted an empty input")
	}
}
