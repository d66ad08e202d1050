package zoo

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

func TestTmpIm2col(t *testing.T) {
	if os.Getenv("TMPCPU") == "" {
		t.Skip()
	}
	for _, s := range []struct{ n, h, c int }{{128, 28, 1}, {128, 14, 20}} {
		src := make([]float32, s.n*s.h*s.h*s.c)
		dst := make([]float32, s.n*s.h*s.h*25*s.c)
		best := time.Hour
		for r := 0; r < 10; r++ {
			t0 := time.Now()
			kernels.Im2col(dst, src, s.n, s.h, s.h, s.c, 5, 5, 1, 1, 2, 2, s.h, s.h)
			best = min(best, time.Since(t0))
		}
		best2 := time.Hour
		for r := 0; r < 10; r++ {
			t0 := time.Now()
			for b := 0; b < s.n; b += 4 {
				per := s.h * s.h * s.c
				kernels.Im2col(dst[:4*per*25], src[b*per:(b+4)*per], 4, s.h, s.h, s.c, 5, 5, 1, 1, 2, 2, s.h, s.h)
			}
			best2 = min(best2, time.Since(t0))
		}
		fmt.Printf("im2col n=%d h=%d c=%d: %.2f ms whole, %.2f ms in 4-image chunks (%.1f GB/s)\n", s.n, s.h, s.c, best.Seconds()*1e3, best2.Seconds()*1e3, float64(len(dst)*4)/best2.Seconds()/1e9)
	}
}
