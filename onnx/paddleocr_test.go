package onnx

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/tensor"
)

// paddleRef is onnx/testdata/paddleocr_ref.json (gen_paddleocr.js).
type paddleRef struct {
	Image  string `json:"image"`
	Models []struct {
		File     string    `json:"file"`
		Crop     [4]int    `json:"crop"` // y0, x0, h, w
		Mean     []float64 `json:"mean"`
		Std      []float64 `json:"std"`
		Shape    []int     `json:"shape"`
		Sum      float64   `json:"sum"`
		Max      float64   `json:"max"`
		Above    int       `json:"above_0_3"`
		Stride   int       `json:"stride"`
		Sample   []float64 `json:"sample"`
		TopK     int       `json:"topk"`
		TopIndex []int     `json:"top_index"`
		TopProb  []float64 `json:"top_prob"`
	} `json:"models"`
}

// photoInput crops an RGB photo to NCHW float32, (v/255 - mean)/std in
// float64, as gen_paddleocr.js does.
func photoInput(t *testing.T, path string, crop [4]int, mean, std []float64) *tensor.Tensor {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := bmp.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	y0, x0, h, w := crop[0], crop[1], crop[2], crop[3]
	x := tensor.New(1, 3, h, w)
	b := img.Bounds()
	for yy := range h {
		for xx := range w {
			r, g, bl, _ := img.At(b.Min.X+x0+xx, b.Min.Y+y0+yy).RGBA()
			for c, v := range []uint32{r >> 8, g >> 8, bl >> 8} {
				x.Data[(c*h+yy)*w+xx] = float32((float64(v)/255 - mean[c]) / std[c])
			}
		}
	}
	return x
}

// readPaddleRef reads the reference outputs and finds their photo.
func readPaddleRef(t *testing.T) (ref paddleRef, photo string) {
	t.Helper()
	b, err := os.ReadFile("testdata/paddleocr_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref, testutil.SharedFile(t, ref.Image)
}

// TestPaddleOCRMatchesORT runs PP-OCRv4 detection and recognition and the
// direction classifier on a photo and compares with ONNX Runtime's
// outputs: the sampled values within 1e-4 of the largest output, the
// statistics of the whole, and the recogniser's top classes.
func TestPaddleOCRMatchesORT(t *testing.T) {
	ref, photo := readPaddleRef(t)
	for _, r := range ref.Models {
		t.Run(r.File, func(t *testing.T) {
			m, err := Load(testutil.SharedFile(t, filepath.Join("models/onnx/paddleocr", r.File)), nil)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := m.RunNCHW(photoInput(t, photo, r.Crop, r.Mean, r.Std))
			if err != nil {
				t.Fatal(err)
			}
			y := outs[0]
			if !tensor.EqualShape(y.Shape, r.Shape) {
				t.Fatalf("output shape %v, ONNX Runtime %v", y.Shape, r.Shape)
			}
			var sum, mx float64
			above := 0
			for _, v := range y.Data {
				sum += float64(v)
				mx = math.Max(mx, float64(v))
				if v > 0.3 {
					above++
				}
			}
			tol := 1e-4 * r.Max
			if math.Abs(mx-r.Max) > tol || math.Abs(sum-r.Sum) > 1e-4*math.Max(1, math.Abs(r.Sum)) {
				t.Errorf("max %v sum %v, ONNX Runtime %v and %v", mx, sum, r.Max, r.Sum)
			}
			if d := above - r.Above; d < -2 || d > 2 {
				t.Errorf("%d values above 0.3, ONNX Runtime %d", above, r.Above)
			}
			var worst float64
			if r.Stride > 0 {
				hh, ww := r.Shape[len(r.Shape)-2], r.Shape[len(r.Shape)-1]
				lead := len(y.Data) / (hh * ww)
				k := 0
				for l := range lead {
					for i := 0; i < hh; i += r.Stride {
						for j := 0; j < ww; j += r.Stride {
							worst = math.Max(worst, math.Abs(float64(y.Data[(l*hh+i)*ww+j])-r.Sample[k]))
							k++
						}
					}
				}
			}
			if r.TopK > 0 {
				n := r.Shape[len(r.Shape)-1]
				for i, idx := range r.TopIndex {
					step := i / r.TopK
					worst = math.Max(worst, math.Abs(float64(y.Data[step*n+idx])-r.TopProb[i]))
				}
				// The best class of every step is ONNX Runtime's.
				for step := 0; step < len(r.TopIndex)/r.TopK; step++ {
					best := 0
					row := y.Data[step*n : (step+1)*n]
					for k, v := range row {
						if v > row[best] {
							best = k
						}
					}
					if want := r.TopIndex[step*r.TopK]; best != want && math.Abs(float64(row[best]-row[want])) > tol {
						t.Errorf("step %d: best class %d, ONNX Runtime %d", step, best, want)
					}
				}
			}
			if worst > tol {
				t.Errorf("largest difference %.3g, tolerance %.3g (1e-4 of the largest output %v)", worst, tol, r.Max)
			}
			t.Logf("%s %v: max |dlcv - ORT| / max |ORT| = %.2g on the compared values", r.File, r.Shape, worst/r.Max)
		})
	}
}

// TestPaddleOCROptimizeMatches runs the three PaddleOCR models with and
// without nn.Optimize's passes (batch norms folded, activations and
// residuals fused, squeeze-excite gates in the next convolution's
// weights, expansions run with their depthwise layers): the outputs agree
// within 1e-5 of the largest. The detector's differ by 2.3e-5 (as before
// the last two passes existed): its probability map is a sigmoid of
// logits in the tens, after batch norms folded into transposed
// convolutions, so its bound is the 1e-4 that TestPaddleOCRMatchesORT
// holds it to against ONNX Runtime.
func TestPaddleOCROptimizeMatches(t *testing.T) {
	ref, photo := readPaddleRef(t)
	for _, r := range ref.Models {
		t.Run(r.File, func(t *testing.T) {
			path := testutil.SharedFile(t, filepath.Join("models/onnx/paddleocr", r.File))
			x := photoInput(t, photo, r.Crop, r.Mean, r.Std)
			var ys [2]*tensor.Tensor
			for i, noOpt := range []bool{true, false} {
				m, err := Load(path, &Options{NoOptimize: noOpt})
				if err != nil {
					t.Fatal(err)
				}
				outs, err := m.RunNCHW(x)
				if err != nil {
					t.Fatal(err)
				}
				ys[i] = outs[0].Clone()
			}
			var worst, mx float64
			for i, v := range ys[0].Data {
				worst = math.Max(worst, math.Abs(float64(v-ys[1].Data[i])))
				mx = math.Max(mx, math.Abs(float64(v)))
			}
			t.Logf("max |optimized - not| = %.3g (max |out| %.3g)", worst, mx)
			bound := 1e-5
			if strings.Contains(r.File, "_det_") {
				bound = 1e-4
			}
			if worst > bound*mx {
				t.Errorf("optimized and not differ by %.3g, more than %g of the largest output %.3g", worst, bound, mx)
			}
		})
	}
}
