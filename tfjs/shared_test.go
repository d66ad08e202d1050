package tfjs

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// The four shared TF.js models against TensorFlow.js 4 (wasm backend) on
// the shared photos: testdata/gen_shared.js ran TF.js on inputs made the
// way this file makes them (integer arithmetic, so both sides see the same
// float32 values) and stored the outputs.

type sharedOutput struct {
	Shape  []int   `json:"shape"`
	Max    float64 `json:"max"`
	Data   string  `json:"data"`   // whole output
	Sample string  `json:"sample"` // or 1024 evenly spaced values
}

type sharedRun struct {
	Model   string                  `json:"model"`
	Image   string                  `json:"image"`
	Outputs map[string]sharedOutput `json:"outputs"`
}

type sharedRefs struct {
	TFJS    string      `json:"tfjs"`
	Backend string      `json:"backend"`
	Runs    []sharedRun `json:"runs"`
}

// rgbImage is 8-bit RGB pixels, row-major.
type rgbImage struct {
	w, h int
	pix  []uint8
}

func readBMP(t testing.TB, path string) rgbImage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := bmp.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := im.Bounds()
	out := rgbImage{w: b.Dx(), h: b.Dy(), pix: make([]uint8, 3*b.Dx()*b.Dy())}
	for y := range out.h {
		for x := range out.w {
			r, g, bl, _ := im.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := 3 * (y*out.w + x)
			out.pix[i], out.pix[i+1], out.pix[i+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
		}
	}
	return out
}

func (im rgbImage) crop(x0, y0, size int) rgbImage {
	out := rgbImage{w: size, h: size, pix: make([]uint8, 3*size*size)}
	for y := range size {
		copy(out.pix[3*y*size:3*(y+1)*size], im.pix[3*((y0+y)*im.w+x0):])
	}
	return out
}

// resize is gen_shared.js's bilinear resize with half-pixel centres in
// 8-bit fixed point.
func (im rgbImage) resize(w, h int) rgbImage {
	coord := func(d, dst, src int) int {
		num := (2*d+1)*src*128 - dst*128
		if num < 0 {
			return 0
		}
		return min(num/dst, (src-1)*256)
	}
	out := rgbImage{w: w, h: h, pix: make([]uint8, 3*w*h)}
	for y := range h {
		sy := coord(y, h, im.h)
		y0, fy := sy>>8, sy&255
		y1 := min(y0+1, im.h-1)
		for x := range w {
			sx := coord(x, w, im.w)
			x0, fx := sx>>8, sx&255
			x1 := min(x0+1, im.w-1)
			for c := range 3 {
				p := func(yy, xx int) int { return int(im.pix[3*(yy*im.w+xx)+c]) }
				v := p(y0, x0)*(256-fx)*(256-fy) + p(y0, x1)*fx*(256-fy) + p(y1, x0)*(256-fx)*fy + p(y1, x1)*fx*fy
				out.pix[3*(y*w+x)+c] = uint8((v + 32768) >> 16)
			}
		}
	}
	return out
}

// The input scalings of the shared models.
func prepare(model string, im rgbImage) *tensor.Tensor {
	if model == "emotion" {
		x := tensor.New(1, im.h, im.w, 1)
		for i := range x.Data {
			r, g, b := int(im.pix[3*i]), int(im.pix[3*i+1]), int(im.pix[3*i+2])
			gray := (299*r + 587*g + 114*b + 500) / 1000
			x.Data[i] = float32((float64(gray)/255 - 0.5) * 2)
		}
		return x
	}
	x := tensor.New(1, im.h, im.w, 3)
	for i, v := range im.pix {
		switch model {
		case "centernet":
			x.Data[i] = float32(v)
		case "blazeface":
			x.Data[i] = float32(float64(v)/127.5 - 1)
		case "nsfw":
			x.Data[i] = float32(float64(v) / 255)
		}
	}
	return x
}

// sharedModels: the file, the input size and the outputs compared.
var sharedModels = []struct {
	key, file string
	size      int
	outputs   []string // graph models: imported up to these
}{
	{"centernet", "models/tfjs/human/centernet.json", 512, nil},
	{"blazeface", "models/tfjs/human/blazeface.json", 256, nil},
	{"emotion", "models/tfjs/human/emotion.json", 64, nil},
	{"nsfw", "models/tfjs/nsfw-mobilenet-v2/model.json", 224, nil},
}

var sharedFaces = map[string][3]int{"grace_hopper": {165, 125, 190}, "cat": {150, 20, 200}}

// sampled picks gen_shared.js's 1024 evenly spaced values.
func sampled(d []float32) []float32 {
	n := len(d)
	s := make([]float32, 1024)
	for i := range s {
		s[i] = d[i*n/1024]
	}
	return s
}

func argmax(d []float32) int {
	k := 0
	for i, v := range d {
		if v > d[k] {
			k = i
		}
	}
	return k
}

func TestSharedModelsAgainstTFJS(t *testing.T) {
	var refs sharedRefs
	readGzJSON(t, "testdata/shared_refs.json.gz", &refs)
	photos := map[string]rgbImage{}
	for _, sm := range sharedModels {
		t.Run(sm.key, func(t *testing.T) {
			path := testutil.SharedFile(t, sm.file)
			m, err := LoadOptions(path, Options{Outputs: sm.outputs})
			if err != nil {
				t.Fatal(err)
			}
			s := m.Graph.NewSession()
			for _, run := range refs.Runs {
				if run.Model != sm.key {
					continue
				}
				im, ok := photos[run.Image]
				if !ok {
					im = readBMP(t, testutil.SharedFile(t, filepath.Join("models/coral", run.Image+".bmp")))
					photos[run.Image] = im
				}
				if sm.key == "emotion" {
					f := sharedFaces[run.Image]
					im = im.crop(f[0], f[1], f[2])
				}
				x := prepare(sm.key, im.resize(sm.size, sm.size))
				var names []string
				for n := range run.Outputs {
					names = append(names, n)
				}
				slices.Sort(names)
				var vals []string
				var want []*nn.Value
				for _, n := range names {
					if v := m.Value(n); v != nil {
						vals, want = append(vals, n), append(want, v)
					}
				}
				ys, err := s.RunValues(false, []*tensor.Tensor{x}, want)
				if err != nil {
					t.Fatal(err)
				}
				for i, n := range vals {
					ref := run.Outputs[n]
					y := ys[i]
					if !tensor.EqualShape(y.Shape, ref.Shape) {
						t.Errorf("%s %s: shape %v, TF.js %v", run.Image, n, y.Shape, ref.Shape)
						continue
					}
					got, rd := y.Data, ref.Data
					if rd == "" {
						got, rd = sampled(y.Data), ref.Sample
					}
					r := fixtureTensor{Data: rd}.tensor(t).Data
					e := relErr(got, r)
					t.Logf("%s %s %v: max|diff|/max|ref| = %.2g (max|ref| %.3g)", run.Image, n, ref.Shape, e, ref.Max)
					// Both sides use the same weights (float16 and uint8
					// decode exactly as TF.js decodes them), so only float32
					// summation order differs: about 1e-6 over the ~50
					// layers here. CenterNet's rows are ordered by TopK, so
					// near-ties could reorder them: its detections are
					// compared after NMS instead.
					if e > 1e-4 && n != "tower_0/detections" {
						t.Errorf("%s %s: max|diff|/max|ref| = %.3g, want <= 1e-4", run.Image, n, e)
					}
					if (sm.key == "emotion" || sm.key == "nsfw") && argmax(got) != argmax(r) {
						t.Errorf("%s %s: top class %d, TF.js %d", run.Image, n, argmax(got), argmax(r))
					}
					if n == "tower_0/detections" {
						compareDetections(t, run.Image, nms(got), nms(r))
					}
				}
			}
		})
	}
}

// detection is one row of CenterNet's output: x1, y1, x2, y2 (input
// pixels), score, class.
type detection struct {
	box   [4]float32
	score float32
	class int
}

// nms keeps the detections the shared README prescribes: score >= 0.2,
// greedy non-maximum suppression at IoU 0.4, at most 10 (the rows come
// sorted by score).
func nms(d []float32) []detection {
	var kept []detection
	for i := 0; i+6 <= len(d) && len(kept) < 10; i += 6 {
		det := detection{box: [4]float32{d[i], d[i+1], d[i+2], d[i+3]}, score: d[i+4], class: int(d[i+5])}
		if det.score < 0.2 {
			break
		}
		ok := true
		for _, k := range kept {
			if iou(k.box, det.box) > 0.4 {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, det)
		}
	}
	return kept
}

func iou(a, b [4]float32) float32 {
	iw := min(a[2], b[2]) - max(a[0], b[0])
	ih := min(a[3], b[3]) - max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	return inter / ((a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - inter)
}

// compareDetections wants the same kept detections: class, score within
// 1e-3 and box within 0.1 pixel.
func compareDetections(t *testing.T, image string, got, want []detection) {
	t.Helper()
	t.Logf("%s: %d detections after NMS, TF.js %d; first %+v", image, len(got), len(want), want[:min(len(want), 3)])
	if len(got) != len(want) {
		t.Errorf("%s: %d detections after NMS, TF.js %d", image, len(got), len(want))
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		bad := g.class != w.class || math.Abs(float64(g.score-w.score)) > 1e-3
		for k := range 4 {
			bad = bad || math.Abs(float64(g.box[k]-w.box[k])) > 0.1
		}
		if bad {
			t.Errorf("%s: detection %d is %+v, TF.js %+v", image, i, g, w)
		}
	}
}

// TestSharedModelsOptimized runs the shared models with and without
// nn.Optimize's passes (batch norms folded, activations fused, the
// MobileNets' expansions run with their depthwise layers in strips,
// squeeze-excite gates in the next convolution's weights) on a photo:
// every output agrees within 1e-5 of its largest value. CenterNet's
// detections are rows ordered by score, which near-ties could reorder;
// its other outputs are compared.
func TestSharedModelsOptimized(t *testing.T) {
	for _, sm := range sharedModels {
		t.Run(sm.key, func(t *testing.T) {
			m, err := LoadOptions(testutil.SharedFile(t, sm.file), Options{Outputs: sm.outputs})
			if err != nil {
				t.Fatal(err)
			}
			im := readBMP(t, testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
			if sm.key == "emotion" {
				f := sharedFaces["grace_hopper"]
				im = im.crop(f[0], f[1], f[2])
			}
			x := prepare(sm.key, im.resize(sm.size, sm.size))
			ref, err := m.Graph.NewSession().Run(false, x)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]*tensor.Tensor, len(ref))
			for i, r := range ref {
				want[i] = r.Clone()
			}
			opt, err := nn.Optimize(m.Graph)
			if err != nil {
				t.Fatal(err)
			}
			got, err := opt.NewSession().Run(false, x)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, n := range opt.Nodes() {
				kinds[n.Op.Kind()]++
			}
			t.Logf("%d nodes, %d before; %d PointwiseDepthwise, %d ScaledPointwise", len(opt.Nodes()), len(m.Graph.Nodes()), kinds["PointwiseDepthwise"], kinds["ScaledPointwise"])
			for i, v := range opt.Outputs() {
				if strings.HasSuffix(v.Name(), "detections") {
					continue
				}
				var worst, mx float64
				for j, w := range want[i].Data {
					worst = math.Max(worst, math.Abs(float64(got[i].Data[j]-w)))
					mx = math.Max(mx, math.Abs(float64(w)))
				}
				t.Logf("%s: max |optimized - not| = %.3g (max |out| %.3g)", v.Name(), worst, mx)
				if worst > 1e-5*mx {
					t.Errorf("%s: optimized and not differ by %.3g, more than 1e-5 of the largest output %.3g", v.Name(), worst, mx)
				}
			}
		})
	}
}
