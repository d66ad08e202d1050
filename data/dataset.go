package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Dataset is a labelled set of images held in memory, (N,H,W,C); Y[i] in
// 0..len(Classes)-1 is the class of image i. The images are held one of
// two ways, and exactly one of X and U8 is set:
//
//   - X: float32 values, as the model takes them (image folders, whose
//     resize works in float32);
//   - U8: 8-bit pixels as the file formats store them (IDX/MNIST, CIFAR),
//     4x smaller; they become float32 (v/255, minus any mean) only when a
//     batch is made.
//
// Batcher, Subset, Split, Concat, augmentation and evaluation work on
// either; SampleTo and Float32 give any sample or the whole set as float32.
type Dataset struct {
	X       *tensor.Tensor
	U8      *Uint8Images
	Y       []int
	Classes []string
}

// Uint8Images are 8-bit images, (N,H,W,C) row-major. The model sees pixel
// value v of channel c as float32(v)/255 - Mean[c] (no mean when Mean is
// empty): the same float32 values a loader that scales to [0,1] at load
// time produces.
type Uint8Images struct {
	Shape []int
	Pix   []uint8
	// Mean, per channel in [0,1] units, is subtracted after scaling.
	Mean []float32
}

// lut returns the float32 value of every byte for each channel.
func (u *Uint8Images) lut() [][256]float32 {
	c := u.Shape[len(u.Shape)-1]
	t := make([][256]float32, c)
	for k := range t {
		for v := range 256 {
			x := float32(v) / 255
			if len(u.Mean) == c {
				x -= u.Mean[k]
			}
			t[k][v] = x
		}
	}
	return t
}

// convert writes the float32 values of src (whole pixels of c channels)
// to dst.
func convert(dst []float32, src []uint8, lut [][256]float32) {
	if len(lut) == 1 {
		t := &lut[0]
		for i, v := range src {
			dst[i] = t[v]
		}
		return
	}
	c := len(lut)
	for i := 0; i+c <= len(src); i += c {
		for k := range c {
			dst[i+k] = lut[k][src[i+k]]
		}
	}
}

// Len is the number of samples.
func (d *Dataset) Len() int { return len(d.Y) }

// Shape is the shape of the images, (N,H,W,C).
func (d *Dataset) Shape() []int {
	switch {
	case d.U8 != nil:
		return d.U8.Shape
	case d.X != nil:
		return d.X.Shape
	}
	return nil
}

// SampleShape is the shape of one sample, (H,W,C).
func (d *Dataset) SampleShape() []int { return d.Shape()[1:] }

// SampleLen is the number of values of one sample, H*W*C.
func (d *Dataset) SampleLen() int { return tensor.Numel(d.SampleShape()) }

// SampleTo writes sample i as the model sees it (float32) to dst, which
// must hold SampleLen values.
func (d *Dataset) SampleTo(dst []float32, i int) {
	per := d.SampleLen()
	if d.U8 != nil {
		convert(dst[:per], d.U8.Pix[i*per:(i+1)*per], d.U8.lut())
		return
	}
	copy(dst[:per], d.X.Data[i*per:(i+1)*per])
}

// Float32 returns the images as one float32 tensor: X itself, or U8
// converted (a new tensor of 4 bytes per value).
func (d *Dataset) Float32() *tensor.Tensor {
	if d.U8 == nil {
		return d.X
	}
	x := tensor.New(d.U8.Shape...)
	convert(x.Data, d.U8.Pix, d.U8.lut())
	return x
}

// Validate checks that the images are (N,H,W,C) with one row per label and
// that labels are valid class indices.
func (d *Dataset) Validate() error {
	switch {
	case d.X != nil && d.U8 != nil:
		return fmt.Errorf("data: dataset holds both float32 (X) and 8-bit (U8) images; set one")
	case d.U8 != nil:
		u := d.U8
		if len(u.Shape) != 4 {
			return fmt.Errorf("data: dataset images must be (N,H,W,C), got %v", u.Shape)
		}
		for _, s := range u.Shape {
			if s < 0 {
				return fmt.Errorf("data: dataset images have shape %v", u.Shape)
			}
		}
		if len(u.Pix) != tensor.Numel(u.Shape) {
			return fmt.Errorf("data: dataset has %d pixel values for shape %v", len(u.Pix), u.Shape)
		}
		if len(u.Mean) != 0 && len(u.Mean) != u.Shape[3] {
			return fmt.Errorf("data: dataset has %d mean values for %d channels", len(u.Mean), u.Shape[3])
		}
	case d.X == nil || len(d.X.Shape) != 4:
		return fmt.Errorf("data: dataset X must be (N,H,W,C), got %v", shapeOf(d.X))
	case len(d.X.Data) != tensor.Numel(d.X.Shape):
		return fmt.Errorf("data: dataset X has %d values for shape %v", len(d.X.Data), d.X.Shape)
	}
	if n := d.Shape()[0]; n != len(d.Y) {
		return fmt.Errorf("data: dataset has %d images but %d labels", n, len(d.Y))
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
// that order, stored as d stores them.
func (d *Dataset) Subset(idx []int) *Dataset {
	per := d.SampleLen()
	shape := append([]int{len(idx)}, d.SampleShape()...)
	out := &Dataset{Y: make([]int, len(idx)), Classes: slices.Clone(d.Classes)}
	if u := d.U8; u != nil {
		out.U8 = &Uint8Images{Shape: shape, Pix: make([]uint8, len(idx)*per), Mean: slices.Clone(u.Mean)}
		for k, i := range idx {
			copy(out.U8.Pix[k*per:(k+1)*per], u.Pix[i*per:(i+1)*per])
		}
	} else {
		out.X = tensor.New(shape...)
		for k, i := range idx {
			copy(out.X.Data[k*per:(k+1)*per], d.X.Data[i*per:(i+1)*per])
		}
	}
	for k, i := range idx {
		out.Y[k] = d.Y[i]
	}
	return out
}

// Concat joins datasets with the same image shape, storage and classes:
// a's samples, then b's.
func Concat(a, b *Dataset) (*Dataset, error) {
	if !tensor.EqualShape(a.SampleShape(), b.SampleShape()) || !slices.Equal(a.Classes, b.Classes) {
		return nil, fmt.Errorf("data: cannot pool datasets of shapes %v and %v with %d and %d classes", a.SampleShape(), b.SampleShape(), len(a.Classes), len(b.Classes))
	}
	if (a.U8 == nil) != (b.U8 == nil) {
		return nil, fmt.Errorf("data: cannot pool 8-bit and float32 datasets")
	}
	shape := append([]int{a.Len() + b.Len()}, a.SampleShape()...)
	out := &Dataset{Y: append(slices.Clone(a.Y), b.Y...), Classes: slices.Clone(a.Classes)}
	if a.U8 != nil {
		if !slices.Equal(a.U8.Mean, b.U8.Mean) {
			return nil, fmt.Errorf("data: cannot pool datasets with means %v and %v", a.U8.Mean, b.U8.Mean)
		}
		out.U8 = &Uint8Images{Shape: shape, Pix: make([]uint8, len(a.U8.Pix)+len(b.U8.Pix)), Mean: slices.Clone(a.U8.Mean)}
		copy(out.U8.Pix, a.U8.Pix)
		copy(out.U8.Pix[len(a.U8.Pix):], b.U8.Pix)
	} else {
		out.X = tensor.New(shape...)
		copy(out.X.Data, a.X.Data)
		copy(out.X.Data[len(a.X.Data):], b.X.Data)
	}
	return out, nil
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
