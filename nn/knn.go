package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// KNN is the k-nearest-neighbour classifier as a graph op, the course's
// first classifier: its "weights" are the training set's feature vectors
// and labels, stored like any param (so a k-NN model file saves, loads and
// serves as the networks do), and its output for a feature vector is the
// share of each class among the K training vectors nearest to it in
// Euclidean distance, as scikit-learn's KNeighborsClassifier with uniform
// weights gives predict_proba (the argmax is the prediction; a tie in
// votes goes to the lower class, a tie in distance to the training vector
// that comes first). It has no gradient: "training" is storing the set
// (SetTrainingSet).
type KNN struct {
	K       int `json:"k"`
	Classes int `json:"classes"`
	// Samples and Features size the stored set (known when loading a file).
	Samples  int `json:"samples"`
	Features int `json:"features"`

	points, labels *Param // (Samples, Features), (Samples,)
}

// NewKNN returns a k-NN classifier over the given number of classes; its
// training set is set with SetTrainingSet after the graph is built.
func NewKNN(k, classes int) *KNN { return &KNN{K: k, Classes: classes} }

func (o *KNN) Kind() string { return "KNN" }

// NoGrad: the op is not differentiable.
func (o *KNN) NoGrad(int) bool { return true }

func (o *KNN) Saves() (inputs, outputs bool) { return false, false }

func (o *KNN) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 || len(in[0]) != 2 {
		return nil, fmt.Errorf("KNN: want one input of shape (batch, features), got %v", in)
	}
	if o.K < 1 || o.Classes < 2 {
		return nil, fmt.Errorf("KNN: k %d must be >= 1 and classes %d >= 2", o.K, o.Classes)
	}
	if f := in[0][1]; f < 1 || (o.Features > 0 && f != o.Features) {
		return nil, fmt.Errorf("KNN: input has %d features, the stored set %d", f, o.Features)
	}
	return [][]int{{in[0][0], o.Classes}}, nil
}

// Build makes room for the stored set (empty until SetTrainingSet, or
// filled by a model file).
func (o *KNN) Build(in [][]int, _ *rand.Rand) error {
	o.Features = in[0][1]
	if o.Samples < 0 || o.Samples*o.Features > 1<<31 {
		return fmt.Errorf("KNN: %d samples of %d features is too large", o.Samples, o.Features)
	}
	o.points = NewState("points", tensor.New(o.Samples, o.Features))
	o.labels = NewState("labels", tensor.New(o.Samples))
	return nil
}

func (o *KNN) Params() []*Param {
	if o.points == nil {
		return nil
	}
	return []*Param{o.points, o.labels}
}

// SetTrainingSet stores the feature vectors (Samples x Features, row-major)
// and their class labels: the whole of a k-NN's training.
func (o *KNN) SetTrainingSet(points []float32, labels []int) error {
	if o.points == nil {
		return fmt.Errorf("KNN: SetTrainingSet before Build")
	}
	if len(labels) == 0 || len(points) != len(labels)*o.Features {
		return fmt.Errorf("KNN: %d values for %d samples of %d features", len(points), len(labels), o.Features)
	}
	if len(labels) < o.K {
		return fmt.Errorf("KNN: k %d is larger than the %d training samples", o.K, len(labels))
	}
	// The params keep their identity (a graph lists them): only their
	// values change size.
	o.Samples = len(labels)
	o.points.Value = &tensor.Tensor{Shape: []int{o.Samples, o.Features}, Data: points}
	o.labels.Value = tensor.New(o.Samples)
	for i, y := range labels {
		if y < 0 || y >= o.Classes {
			return fmt.Errorf("KNN: label %d of sample %d is not one of %d classes", y, i, o.Classes)
		}
		o.labels.Value.Data[i] = float32(y)
	}
	return nil
}

// knnState holds the distance block and the stored vectors' squared norms.
type knnState struct {
	dots  []float32
	norms []float32
	task  knnTask
}

// knnRows is how many query rows share one GEMM against the stored set.
const knnRows = 64

func (o *KNN) Forward(c *Call, in, out []*tensor.Tensor) error {
	n, d := len(o.labels.Value.Data), o.Features
	if n < o.K {
		return fmt.Errorf("KNN: %d stored samples for k %d (set the training set first)", n, o.K)
	}
	st := stateOf[knnState](c)
	pts := o.points.Value.Data
	st.norms = grow(st.norms, n)
	for i := range n {
		row := pts[i*d : (i+1)*d]
		st.norms[i] = kernels.Dot(row, row)
	}
	x, y := in[0].Data, out[0].Data
	rows := len(x) / d
	for r0 := 0; r0 < rows; r0 += knnRows {
		m := min(knnRows, rows-r0)
		st.dots = grow(st.dots, m*n)
		// |q - p|^2 = |q|^2 - 2 q.p + |p|^2; |q|^2 is the same for every p.
		kernels.Sgemm(false, true, m, n, d, 1, x[r0*d:], d, pts, d, 0, st.dots, n)
		st.task = knnTask{o: o, st: st, y: y[r0*o.Classes:], n: n}
		kernels.Parallel(m, 4, &st.task)
	}
	st.task = knnTask{}
	return nil
}

// knnTask votes for rows [lo, hi) of one distance block.
type knnTask struct {
	o  *KNN
	st *knnState
	y  []float32
	n  int
}

func (t *knnTask) Run(lo, hi int) {
	k, classes := t.o.K, t.o.Classes
	// Per range: ranges run concurrently. k is small; rows are many.
	best := make([]int, k)
	bestD := make([]float32, k)
	for r := lo; r < hi; r++ {
		dots := t.st.dots[r*t.n : (r+1)*t.n]
		cnt := 0
		for i, v := range dots {
			dist := t.st.norms[i] - 2*v
			if cnt == k && dist >= bestD[k-1] {
				continue
			}
			// Insert keeping (distance, index) ascending: a later index
			// never displaces an equal distance.
			j := min(cnt, k-1)
			for j > 0 && bestD[j-1] > dist {
				bestD[j], best[j] = bestD[j-1], best[j-1]
				j--
			}
			bestD[j], best[j] = dist, i
			cnt = min(cnt+1, k)
		}
		out := t.y[r*classes : (r+1)*classes]
		clear(out)
		for _, i := range best[:cnt] {
			out[int(t.o.labels.Value.Data[i])] += 1 / float32(cnt)
		}
	}
}

func (o *KNN) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return fmt.Errorf("KNN is not differentiable: a k-NN model is fitted by storing its training set")
}

// ColorHistogram turns images with values in [0, 1] into normalised
// histograms: Bins levels per channel, joint over the channels (Bins^C
// cells, 512 for RGB at 8 bins), each image's cells summing to 1 — the
// colour features the course's k-NN uses beside raw pixels. Values outside
// [0, 1] count in the end bins. It has no gradient.
type ColorHistogram struct {
	noParams
	Bins int `json:"bins"`
}

// NewColorHistogram returns a histogram with bins levels per channel.
func NewColorHistogram(bins int) *ColorHistogram { return &ColorHistogram{Bins: bins} }

func (o *ColorHistogram) Kind() string { return "ColorHistogram" }

func (o *ColorHistogram) NoGrad(int) bool { return true }

func (o *ColorHistogram) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 || len(in[0]) != 4 || in[0][3] < 1 || in[0][3] > 4 {
		return nil, fmt.Errorf("ColorHistogram: want one (batch, height, width, channels) input with 1 to 4 channels, got %v", in)
	}
	if o.Bins < 2 || o.Bins > 256 {
		return nil, fmt.Errorf("ColorHistogram: bins %d must be in 2..256", o.Bins)
	}
	cells := 1
	for range in[0][3] {
		cells *= o.Bins
	}
	if cells > 1<<20 {
		return nil, fmt.Errorf("ColorHistogram: %d bins over %d channels make %d cells", o.Bins, in[0][3], cells)
	}
	return [][]int{{in[0][0], cells}}, nil
}

func (o *ColorHistogram) Forward(c *Call, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	px, ch := s[1]*s[2], s[3]
	cells := len(out[0].Data) / max(s[0], 1)
	w := 1 / float32(px)
	for b := range s[0] {
		img := in[0].Data[b*px*ch : (b+1)*px*ch]
		h := out[0].Data[b*cells : (b+1)*cells]
		clear(h)
		for p := range px {
			cell := 0
			for _, v := range img[p*ch : (p+1)*ch] {
				bin := int(v * float32(o.Bins))
				bin = min(max(bin, 0), o.Bins-1)
				cell = cell*o.Bins + bin
			}
			h[cell] += w
		}
	}
	return nil
}

func (o *ColorHistogram) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	return fmt.Errorf("ColorHistogram is not differentiable")
}

func init() {
	mustRegister(
		func() Op { return NewKNN(1, 2) },
		func() Op { return NewColorHistogram(8) },
	)
}
