package tflite

import (
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/internal/testutil"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// The float graphs of the Coral models against the integer interpreter
// on the shared photos.
//
// The graph computes the float network the quantized model approximates;
// the interpreter rounds every activation to its 8-bit grid. At the
// logits, the interpreter's values z' are on the logit grid (step s_L,
// from the file) and differ from the graph's z by the rounding error
// accumulated over about 65 requantizations: about one step rms, and we
// allow K steps anywhere: K = 4 for the uint8 models (quantization-aware
// trained, per-tensor), K = 7 for the int8 post-training-quantized one
// (measured maxima over the 1001 logits and three photos: 3.6 and 6.3).
// For δ = K*s_L the probabilities then obey a bound that follows from the
// softmax alone: along z + t(z'-z), dp_i/dt = p_i (e_i - Σ_j p_j e_j), so
// |dp_i/dt| <= 2δ p_i(1-p_i), and p_i moves by at most δ/2 on the way;
// hence |p_i - softmax(z')_i| <= 2δ max{q(1-q) : |q-p_i| <= δ/2}. The
// interpreter's output is that softmax rounded to its 1/256 grid, which
// adds 1/512.
func TestGraphCoralMatchesInterpreter(t *testing.T) {
	for _, tc := range []struct {
		model string
		k     float64 // logit bound in steps of the logit grid
		pool  string  // the global pool's tensor, for the backbone cut
		feats int     // its channels
	}{
		{"mobilenet_v2_1.0_224_quant", 4, "MobilenetV2/Logits/AvgPool", 1280},
		{"mobilenet_v1_0.25_128_quant", 4, "MobilenetV1/Logits/AvgPool_1a/AvgPool", 256},
		{"tf2_mobilenet_v2_1.0_224_ptq", 7, "MobileNetV2/top/GlobalPool/Mean", 1280},
	} {
		path := testutil.SharedFile(t, "models/coral/"+tc.model+".tflite")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		def, err := decode(b)
		if err != nil {
			t.Fatal(err)
		}
		logits := -1
		for _, o := range def.Ops {
			if o.Code == opSoftmax {
				logits = o.Inputs[0]
			}
		}
		lt := def.Tensors[logits]
		sL := float64(lt.Quant.Scale[0])
		mLogits := cutModel(t, b, lt.Name)
		t0 := time.Now()
		g, err := ToGraph(m, GraphOptions{Outputs: []string{lt.Name, def.Tensors[def.Outputs[0]].Name}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: converted in %v, %d nodes, %d params", tc.model, time.Since(t0), len(g.Nodes()), len(g.Params()))
		s := g.NewSession()
		// The inference passes (residual additions and activations into
		// the convolutions) keep the values.
		opt, err := nn.Optimize(g)
		if err != nil {
			t.Fatal(err)
		}
		so := opt.NewSession()
		delta := tc.k * sL
		for _, photo := range []string{"cat", "grace_hopper", "bird"} {
			img := loadBMP(t, "models/coral/"+photo+".bmp")
			x, err := m.Preprocess(img)
			if err != nil {
				t.Fatal(err)
			}
			probsQ, err := m.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			logitsQ, err := mLogits.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			w, h := m.InputSize()
			px := tensor.New(1, h, w, 3)
			for i, p := range ResizeBilinear(ToRGB(img), w, h).Pix {
				px.Data[i] = float32(p)
			}
			t1 := time.Now()
			outs, err := s.Run(false, px)
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(t1)
			z, p := outs[0].Data, outs[1].Data
			fused, err := so.Run(false, px)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxRel(fused[0].Data, z); e > 1e-5 {
				t.Errorf("%s %s: the optimised graph's logits differ by %.2g relative", tc.model, photo, e)
			}
			var dz, dp float64
			for i := range z {
				dz = max(dz, math.Abs(float64(z[i]-logitsQ.Data[i])))
				d := math.Abs(float64(p[i] - probsQ.Data[i]))
				dp = max(dp, d)
				pi := float64(p[i])
				q := min(max(0.5, pi-delta/2), pi+delta/2) // argmax of q(1-q) nearby
				if bound := 2*delta*q*(1-q) + 1.0/512 + 1e-6; d > bound {
					t.Errorf("%s %s class %d: probability %.4f, interpreter %.4f: beyond the bound %.4f", tc.model, photo, i, p[i], probsQ.Data[i], bound)
				}
			}
			top, topQ := m.TopK(p, 1, nil)[0], m.TopK(probsQ.Data, 1, nil)[0]
			t.Logf("%s %s: top-1 %d %.4f (interpreter %d %.4f); max |dz| %.3f = %.2f logit steps, max |dp| %.4f; %v", tc.model, photo, top.Index, top.Score, topQ.Index, topQ.Score, dz, dz/sL, dp, el)
			if top.Index != topQ.Index {
				t.Errorf("%s %s: top-1 %d, interpreter %d", tc.model, photo, top.Index, topQ.Index)
			}
			if dz > delta {
				t.Errorf("%s %s: logits differ by %.3f = %.2f steps, bound %g", tc.model, photo, dz, dz/sL, tc.k)
			}
		}
		// The backbone up to the global pool, for transfer learning.
		bb, err := ToGraph(m, GraphOptions{Outputs: []string{tc.pool}})
		if err != nil {
			t.Fatal(err)
		}
		if s := bb.Outputs()[0].Shape(); !slices.Equal(s, []int{-1, 1, 1, tc.feats}) {
			t.Errorf("%s backbone output %v", tc.model, s)
		}
		if len(bb.Params()) >= len(g.Params()) {
			t.Errorf("%s: backbone has %d params, the whole graph %d", tc.model, len(bb.Params()), len(g.Params()))
		}
	}
}

// A batch through the imported MobileNet v1 trains: gradients reach the
// first layer and are finite.
func TestGraphCoralTrainStep(t *testing.T) {
	m, err := Load(testutil.SharedFile(t, "models/coral/mobilenet_v1_0.25_128_quant.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := ToGraph(m, GraphOptions{PixelMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 128, 128, 3)
	var imgs = []string{"cat", "bird"}
	for i, photo := range imgs {
		r := ResizeBilinear(ToRGB(loadBMP(t, "models/coral/"+photo+".bmp")), 128, 128)
		for k, p := range r.Pix {
			x.Data[i*128*128*3+k] = float32(p) / 255
		}
	}
	y := tensor.New(2, 1001)
	y.Data[286], y.Data[1001+20] = 1, 1 // Egyptian cat, chickadee
	l, err := g.TrainStep(x, y, nn.NewCategoricalCrossEntropy())
	if err != nil {
		t.Fatal(err)
	}
	first := g.Params()[slices.IndexFunc(g.Params(), func(p *nn.Param) bool { return p.Trainable })]
	if first.Grad == nil || !slices.ContainsFunc(first.Grad.Data, func(v float32) bool { return v != 0 }) {
		t.Fatalf("no gradient for %s", first.Name)
	}
	for _, p := range g.Params() {
		for _, v := range p.Value.Data {
			if math.IsNaN(float64(v)) {
				t.Fatalf("NaN in %s", p.Name)
			}
		}
		if p.Grad != nil && slices.ContainsFunc(p.Grad.Data, func(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }) {
			t.Fatalf("non-finite gradient in %s", p.Name)
		}
	}
	t.Logf("loss %.3f", l)
}
