package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// Act is an element-wise activation that a convolution or dense layer
// applies to its own output while it is still in cache (a fused epilogue).
// The fusion passes set it (FuseActivations, Optimize); model files store
// it with the op's config. The zero Act is the identity.
type Act struct {
	// Kind is "" (none), "relu", "clip" (min(max(x, Min), Max): ReLU6 is
	// clip 0..6), "leaky_relu" (Alpha), "sigmoid", "hard_sigmoid" (Alpha*x
	// + Beta, clipped to 0..1), "hard_swish" (Alpha, when not 0,
	// replaces its 1/6: HardSwish.Scale), "silu", "tanh", "gelu"
	// (x*Phi(x), exact) or "gelu_tanh" (GELU's tanh approximation).
	Kind  string  `json:"kind,omitempty"`
	Alpha float32 `json:"alpha,omitempty"`
	Beta  float32 `json:"beta,omitempty"`
	Min   float32 `json:"min,omitempty"`
	Max   float32 `json:"max,omitempty"`
}

// String describes the activation: "relu", "clip(0, 6)".
func (a Act) String() string {
	switch a.Kind {
	case "":
		return "none"
	case "clip":
		return fmt.Sprintf("clip(%g, %g)", a.Min, a.Max)
	case "leaky_relu":
		return fmt.Sprintf("leaky_relu(%g)", a.Alpha)
	case "hard_sigmoid":
		return fmt.Sprintf("hard_sigmoid(%g, %g)", a.Alpha, a.Beta)
	case "hard_swish":
		if a.Alpha != 0 {
			return fmt.Sprintf("hard_swish(%g)", a.Alpha)
		}
	}
	return a.Kind
}

// Validate reports an unknown kind or bad parameters.
func (a Act) Validate() error {
	switch a.Kind {
	case "", "relu", "sigmoid", "hard_swish", "silu", "tanh", "hard_sigmoid", "gelu", "gelu_tanh":
		return nil
	case "clip":
		if !(a.Min <= a.Max) {
			return fmt.Errorf("activation clip(%g, %g): min must be <= max", a.Min, a.Max)
		}
		return nil
	case "leaky_relu":
		if !(a.Alpha >= 0) {
			return fmt.Errorf("activation leaky_relu: alpha %g must be >= 0", a.Alpha)
		}
		return nil
	}
	return fmt.Errorf("unknown activation %q (want relu, clip, leaky_relu, sigmoid, hard_sigmoid, hard_swish, silu, tanh, gelu or gelu_tanh)", a.Kind)
}

// FromOutput reports whether the derivative can be computed from the
// output alone, which is what training needs when the activation is
// fused (the pre-activation values are never stored).
func (a Act) FromOutput() bool {
	switch a.Kind {
	case "", "relu", "clip", "leaky_relu", "sigmoid", "tanh":
		return true
	}
	return false
}

// Apply applies the activation to v in place.
func (a Act) Apply(v []float32) {
	switch a.Kind {
	case "":
	case "relu":
		kernels.Relu(v, v)
	case "clip":
		kernels.Clip(v, v, a.Min, a.Max)
	case "leaky_relu":
		al := a.Alpha
		for i, x := range v {
			if x < 0 {
				v[i] = al * x
			}
		}
	case "sigmoid":
		kernels.Sigmoid(v, v)
	case "tanh":
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
	case "hard_sigmoid":
		al, be := a.Alpha, a.Beta
		for i, x := range v {
			v[i] = min(max(al*x+be, 0), 1)
		}
	case "hard_swish":
		kernels.HardSwish(v, v)
		if a.Alpha != 0 { // x * clip(x+3, 0, 6) * Alpha (HardSwish.Scale)
			kernels.Scal(6*a.Alpha, v)
		}
	case "silu":
		kernels.SiLU(v, v)
	case "gelu":
		kernels.GELU(v, v)
	case "gelu_tanh":
		kernels.GELUTanh(v, v)
	}
}

// GradFromOutput writes dx = dy * f'(x) computed from the output y (dx may
// be dy). Only for activations with FromOutput.
func (a Act) GradFromOutput(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	switch a.Kind {
	case "":
		copy(dx, dy)
	case "relu":
		kernels.ReluGrad(dx, dy, y)
	case "clip":
		// Inside the open interval the slope is 1; at the bounds (where
		// the input was clipped) it is 0, as PyTorch's hardtanh/ReLU6.
		kernels.ClipGrad(dx, dy, y, a.Min, a.Max)
	case "leaky_relu":
		al := a.Alpha
		for i, v := range y {
			dx[i] = dy[i] * pick(posMask(v), 1, al)
		}
	case "sigmoid":
		for i, v := range y {
			dx[i] = dy[i] * v * (1 - v)
		}
	case "tanh":
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	}
}

// posMask is all ones when v > 0 and zero otherwise (0, -0, negative,
// NaN with the sign bit set). Backward passes use it instead of an if:
// the sign of activations is random, and mispredicted branches made them
// several times slower.
func posMask(v float32) uint32 {
	k := int32(math.Float32bits(v))
	return uint32((-k & ^k) >> 31) // sign of -k, except for k = MinInt32 (-0)
}

// pick returns a where mask is all ones and b where it is zero.
func pick(mask uint32, a, b float32) float32 {
	ba, bb := math.Float32bits(a), math.Float32bits(b)
	return math.Float32frombits(bb ^ (ba^bb)&mask)
}

// sigmoid never overflows: exp is only taken of a non-positive number.
func sigmoid(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

// ActOp is implemented by activation ops that can be fused into the layer
// before them: FusedAct returns the activation they compute.
type ActOp interface {
	FusedAct() (Act, bool)
}
