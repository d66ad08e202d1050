package nn

import "fmt"

// Padding says how a convolution or pooling window pads its input. Mode is
// "valid" (no padding; also the meaning of ""), "same" (TensorFlow's rule:
// the output has ceil(in/stride) pixels; the total padding
// max((ceil(in/s)-1)*s+k-in, 0) is split with the extra pixel at the
// bottom/right) or "explicit" (Top, Bottom, Left, Right pixels, as ONNX
// pads and PyTorch padding give them).
type Padding struct {
	Mode   string `json:"mode"`
	Top    int    `json:"top,omitempty"`
	Bottom int    `json:"bottom,omitempty"`
	Left   int    `json:"left,omitempty"`
	Right  int    `json:"right,omitempty"`
}

// Valid and Same are the two automatic paddings.
var (
	Valid = Padding{Mode: "valid"}
	Same  = Padding{Mode: "same"}
)

// Explicit pads p pixels on every side.
func Explicit(p int) Padding {
	return Padding{Mode: "explicit", Top: p, Bottom: p, Left: p, Right: p}
}

func (p Padding) String() string {
	if p.Mode == "explicit" {
		return fmt.Sprintf("explicit(top %d, bottom %d, left %d, right %d)", p.Top, p.Bottom, p.Left, p.Right)
	}
	if p.Mode == "" {
		return "valid"
	}
	return p.Mode
}

// resolve returns the padding before and after along one axis of size in,
// for a (dilated) kernel of extent k and stride s. vertical selects
// Top/Bottom.
func (p Padding) resolve(in, k, s int, vertical bool) (lo, hi int, err error) {
	switch p.Mode {
	case "", "valid":
		return 0, 0, nil
	case "same":
		out := (in + s - 1) / s
		total := max((out-1)*s+k-in, 0)
		return total / 2, total - total/2, nil
	case "explicit":
		lo, hi = p.Left, p.Right
		if vertical {
			lo, hi = p.Top, p.Bottom
		}
		if lo < 0 || hi < 0 {
			return 0, 0, fmt.Errorf("negative padding %s", p)
		}
		return lo, hi, nil
	}
	return 0, 0, fmt.Errorf("unknown padding mode %q (want valid, same or explicit)", p.Mode)
}

// convGeometry resolves padding and output size along one axis for a
// window of extent k (the dilated kernel size) and stride s.
func convGeometry(in, k, s int, p Padding, vertical bool) (out, lo int, err error) {
	if k < 1 || s < 1 {
		return 0, 0, fmt.Errorf("kernel %d and stride %d must be >= 1", k, s)
	}
	lo, hi, err := p.resolve(in, k, s, vertical)
	if err != nil {
		return 0, 0, err
	}
	if in+lo+hi < k {
		return 0, 0, fmt.Errorf("kernel %d is larger than the padded input %d", k, in+lo+hi)
	}
	return (in+lo+hi-k)/s + 1, lo, nil
}
