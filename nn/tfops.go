package nn

import (
	"math"

	"github.com/dlcv-go/dlcv/tensor"
)

// TensorFlow's integer-style division, which imported TF graphs use on
// indices carried as float32 (CenterNet turns a flat TopK index into a
// class, a row and a column with FloorDiv and FloorMod; FloorMod is
// BinaryMath "Mod"). FloorDiv broadcasts as Add does and computes in
// float64, so that on integers below 2^24 (the integers float32 holds
// exactly) the quotient is exact: a float32 quotient of such integers can
// round up to the next integer, so Div followed by Floor would not do.

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

func init() {
	mustRegister(
		func() Op { return NewFloorDiv() },
	)
}
