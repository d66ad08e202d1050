package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Dataset is a labelled set of images held in memory: X is (N,H,W,C),
// Y[i] in 0..len(Classes)-1 is the class of image i.
type Dataset struct {
	X       *tensor.Tensor
	Y       []int
	Classes []string
}

// Len is the number of samples.
func (d *Dataset) Len() int { return len(d.Y) }

// SampleShape is the shape of one sample, X.Shape without N.
func (d *Dataset) SampleShape() []int { return d.X.Shape[1:] }

// Validate checks that X is a 4-D tensor with one row per label and that
// labels are valid class indices.
func (d *Dataset) Validate() error {
	if d.X == nil || len(d.X.Shape) != 4 {
		return fmt.Errorf("data: dataset X must be (N,H,W,C), got %v", shapeOf(d.X))
	}
	if d.X.Shape[0] != len(d.Y) {
		return fmt.Errorf("data: dataset has %d images but %d labels", d.X.Shape[0], len(d.Y))
	}
	if len(d.X.Data) != tensor.Numel(d.X.Shape) {
		return fmt.Errorf("data: dataset X has %d values for shape %v", len(d.X.Data), d.X.Shape)
	}
	if len(d.Classes) == 0 {
		return fmt.Errorf("data: dataset has no class names")
	}
	for i, y := range d.Y {
		if y < 0 || y >= len(d.Classes) {
			return fmt.Errorf("data: label %d of sample %d is outside 0..%d", y, i, len(d.Classes)-1)
		}
	}
	return nil
}

func shapeOf(t *tensor.Tensor) any {
	if t == nil {
		return "nil"
	}
	return t.Shape
}

// Subset returns a new dataset holding copies of the samples at idx, in
// that order.
func (d *Dataset) Subset(idx []int) *Dataset {
	per := tensor.Numel(d.X.Shape[1:])
	shape := append([]int{len(idx)}, d.X.Shape[1:]...)
	out := &Dataset{X: tensor.New(shape...), Y: make([]int, len(idx)), Classes: slices.Clone(d.Classes)}
	for k, i := range idx {
		copy(out.X.Data[k*per:(k+1)*per], d.X.Data[i*per:(i+1)*per])
		out.Y[k] = d.Y[i]
	}
	return out
}

// ClassCounts returns the number of samples of each class.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, len(d.Classes))
	for _, y := range d.Y {
		c[y]++
	}
	return c
}

// DefaultTestFraction is the usual share of a dataset held out for testing.
const DefaultTestFraction = 0.25

// Split divides d into train and test sets, stratified by class: of the
// n_c samples of class c, round(n_c * testFraction) (halves rounded up)
// go to the test set, chosen at random with the seed; the rest go to the
// train set. Both keep the original sample order. testFraction must be in
// [0, 1] (DefaultTestFraction is the usual choice).
func Split(d *Dataset, testFraction float64, seed uint64) (train, test *Dataset, err error) {
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	if !(testFraction >= 0 && testFraction <= 1) {
		return nil, nil, fmt.Errorf("data: test fraction %v is outside [0, 1]", testFraction)
	}
	byClass := make([][]int, len(d.Classes))
	for i, y := range d.Y {
		byClass[y] = append(byClass[y], i)
	}
	rng := nn.NewRNG(seed)
	inTest := make([]bool, d.Len())
	for _, idx := range byClass {
		k := int(math.Floor(float64(len(idx))*testFraction + 0.5))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[:k] {
			inTest[i] = true
		}
	}
	var tr, te []int
	for i, t := range inTest {
		if t {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	return d.Subset(tr), d.Subset(te), nil
}

// ClassWeights returns scikit-learn's compute_class_weight("balanced"):
// n_samples / (n_classes * count[c]) for every class c. A class with no
// samples gets weight 0 (scikit-learn refuses such input).
func ClassWeights(y []int, numClasses int) []float32 {
	count := make([]int, numClasses)
	for _, v := range y {
		if v >= 0 && v < numClasses {
			count[v]++
		}
	}
	w := make([]float32, numClasses)
	for c, n := range count {
		if n > 0 {
			w[c] = float32(float64(len(y)) / (float64(numClasses) * float64(n)))
		}
	}
	return w
}
