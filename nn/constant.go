package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/dlcv-go/dlcv/tensor"
)

// Constant is a node without inputs whose value is a fixed tensor (an
// imported graph's initializer, a folded sub-graph). The tensor is stored
// as non-trainable state, so model files keep it. Sessions hand its data
// to the readers directly, without copying.
type Constant struct {
	Shape []int  `json:"shape"`
	Value *Param `json:"-"`
}

// NewConstant returns a constant holding t (not copied).
func NewConstant(t *tensor.Tensor) *Constant {
	return &Constant{Shape: slices.Clone(t.Shape), Value: NewState("value", t)}
}

func (k *Constant) Kind() string { return "Constant" }

func (k *Constant) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 0 {
		return nil, fmt.Errorf("Constant takes no inputs, got %d", len(in))
	}
	return [][]int{slices.Clone(k.Shape)}, nil
}

// Build makes a zero tensor of Shape when the constant has none yet (a
// model file being loaded fills it).
func (k *Constant) Build(in [][]int, _ *rand.Rand) error {
	if k.Value == nil {
		for _, d := range k.Shape {
			if d < 0 {
				return fmt.Errorf("Constant: shape %s has an unknown dimension", shapeText(k.Shape))
			}
		}
		k.Value = NewState("value", tensor.New(k.Shape...))
	}
	if !tensor.EqualShape(k.Value.Value.Shape, k.Shape) {
		return fmt.Errorf("Constant: value has shape %s, config says %s", tensor.ShapeString(k.Value.Value.Shape), tensor.ShapeString(k.Shape))
	}
	return nil
}

func (k *Constant) Params() []*Param {
	if k.Value == nil {
		return nil
	}
	return []*Param{k.Value}
}

func (k *Constant) Forward(c *Call, in, out []*tensor.Tensor) error {
	copy(out[0].Data, k.Value.Value.Data)
	return nil
}

func (k *Constant) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error { return nil }
