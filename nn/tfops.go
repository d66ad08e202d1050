package nn

import (
	"math"

	"github.com/dlcv-go/dlcv/tensor"
)

// TensorFlow's integer-style arithmetic, which imported TF graphs use on
// indices carried as float32 (CenterNet turns a flat TopK index into a
// class, a row and a column with FloorDiv and FloorMod). Both broadcast as
// Add does and compute in float64, so that on integers below 2^24 (the
// integers float32 holds exactly) the results are exact: a float32
// quotient of such integers can round up to the next integer.

// FloorDiv is floor(a / b), TensorFlow's FloorDiv (Python's //). Its
// derivative is zero wherever it exists, so Backward writes zeros.
type FloorDiv struct{ binary }

// NewFloorDiv returns a FloorDiv op.
func NewFloorDiv() *FloorDiv { return &FloorDiv{} }

// Kind implements Op.
func (*FloorDiv) Kind() string { return "FloorDiv" }

// Saves: nothing; the gradient is zero.
func (*FloorDiv) Saves() (inputs, outputs bool) { return false, false }

// Forward implements Op.
func (*FloorDiv) Forward(c *Call, in, out []*tensor.Tensor) error {
	return binaryForward(c, in, out, floorDiv)
}

// Backward implements Op: the derivative of a step function is zero
// (almost everywhere).
func (*FloorDiv) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	for _, d := range din {
		if d != nil {
			clear(d.Data)
		}
	}
	return nil
}

func floorDiv(a, b float32) float32 {
	return float32(math.Floor(float64(a) / float64(b)))
}

// FloorMod is a - floor(a / b) * b, TensorFlow's FloorMod (Python's %):
// the result has the sign of b. Backward: da = dy, db = -floor(a/b) * dy.
type FloorMod struct{ binary }

// NewFloorMod returns a FloorMod op.
func NewFloorMod() *FloorMod { return &FloorMod{} }

// Kind implements Op.
func (*FloorMod) Kind() string { return "FloorMod" }

// Saves: the inputs (db needs floor(a/b)).
func (*FloorMod) Saves() (inputs, outputs bool) { return true, false }

// Forward implements Op.
func (*FloorMod) Forward(c *Call, in, out []*tensor.Tensor) error {
	return binaryForward(c, in, out, floorMod)
}

func floorMod(a, b float32) float32 {
	x, y := float64(a), float64(b)
	r := math.Mod(x, y)
	if r != 0 && (r < 0) != (y < 0) {
		r += y
	}
	return float32(r)
}

// Backward implements Op.
func (*FloorMod) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil && din[1] == nil {
		return nil
	}
	bc, err := stateOf[binStates](c).bwd.plan(in[0].Shape, in[1].Shape, dout[0].Shape)
	if err != nil {
		return err
	}
	for _, d := range din {
		if d != nil {
			clear(d.Data)
		}
	}
	a, b, g := in[0].Data, in[1].Data, dout[0].Data
	da, db := din[0], din[1]
	bc.each(func(o, ia, ib, n, sa, sb int) {
		for i := range n {
			gy := g[o+i]
			if da != nil {
				da.Data[ia+i*sa] += gy
			}
			if db != nil {
				db.Data[ib+i*sb] -= gy * floorDiv(a[ia+i*sa], b[ib+i*sb])
			}
		}
	})
	return nil
}

func init() {
	mustRegister(
		func() Op { return NewFloorDiv() },
		func() Op { return NewFloorMod() },
	)
}
