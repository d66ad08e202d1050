package nn

import (
	"fmt"
	"math"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Resize scales NHWC images (N, H, W, C) in height and width, as ONNX
// Resize (and F.interpolate, tf.image.resize). The output size is Sizes
// (height, width), or floor(in * Scales) for Scales (height, width); with
// Scales the coordinate transform uses the scales themselves, with Sizes
// out/in, as ONNX specifies.
//
// CoordinateMode maps an output coordinate x to the input coordinate
// (ONNX coordinate_transformation_mode; s is the scale):
//
//   - "half_pixel" (the default): (x + 0.5)/s - 0.5. PyTorch's
//     align_corners=False bilinear, TensorFlow 2.
//   - "pytorch_half_pixel": the same, but 0 when the output has one pixel.
//   - "align_corners": x * (in-1)/(out-1) (0 for one output pixel).
//   - "asymmetric": x / s. PyTorch's nearest, TensorFlow 1 without flags.
//
// Mode "nearest" (the default) takes the input pixel at the coordinate
// rounded by NearestMode: "round_prefer_floor" (the default; halves go
// down), "round_prefer_ceil" (halves go up: TensorFlow's nearest is
// half_pixel with it), "floor" (PyTorch's nearest, with asymmetric) or
// "ceil". Mode "bilinear" ("linear" is accepted too) interpolates the
// four pixels around the coordinate, clamped to the image. Backward adds
// each output gradient into the pixels it was taken from, with the same
// weights. The arithmetic is kernels.ResizePlan's; the op keeps a plan
// per session and splits it over output rows (forward) or images.
type Resize struct {
	noParams
	Mode           string    `json:"mode,omitempty"`
	CoordinateMode string    `json:"coordinate_mode,omitempty"`
	NearestMode    string    `json:"nearest_mode,omitempty"`
	Scales         []float32 `json:"scales,omitempty"`
	Sizes          []int     `json:"sizes,omitempty"`
}

// NewResize returns a resize by scale factors (height, width) in mode
// "nearest" or "bilinear", with half_pixel coordinates.
func NewResize(mode string, scaleH, scaleW float32) *Resize {
	return &Resize{Mode: mode, Scales: []float32{scaleH, scaleW}}
}

// NewResizeTo returns a resize to an output size in mode "nearest" or
// "bilinear", with half_pixel coordinates.
func NewResizeTo(mode string, height, width int) *Resize {
	return &Resize{Mode: mode, Sizes: []int{height, width}}
}

// Kind implements Op.
func (o *Resize) Kind() string { return "Resize" }

// Saves: nothing; the gradient depends on the geometry alone.
func (o *Resize) Saves() (inputs, outputs bool) { return false, false }

// config resolves the modes.
func (o *Resize) config() (bilinear bool, coord kernels.CoordMode, round kernels.NearestMode, err error) {
	switch o.Mode {
	case "", "nearest":
	case "bilinear", "linear":
		bilinear = true
	default:
		return false, 0, 0, fmt.Errorf("Resize: unknown mode %q (want nearest or bilinear)", o.Mode)
	}
	switch o.CoordinateMode {
	case "", "half_pixel":
		coord = kernels.HalfPixel
	case "pytorch_half_pixel":
		coord = kernels.PytorchHalfPixel
	case "align_corners":
		coord = kernels.AlignCorners
	case "asymmetric":
		coord = kernels.Asymmetric
	default:
		return false, 0, 0, fmt.Errorf("Resize: unknown coordinate mode %q (want half_pixel, pytorch_half_pixel, align_corners or asymmetric)", o.CoordinateMode)
	}
	switch o.NearestMode {
	case "", "round_prefer_floor":
		round = kernels.RoundPreferFloor
	case "round_prefer_ceil":
		round = kernels.RoundPreferCeil
	case "floor":
		round = kernels.Floor
	case "ceil":
		round = kernels.Ceil
	default:
		return false, 0, 0, fmt.Errorf("Resize: unknown nearest mode %q (want round_prefer_floor, round_prefer_ceil, floor or ceil)", o.NearestMode)
	}
	switch {
	case (len(o.Scales) == 0) == (len(o.Sizes) == 0):
		err = fmt.Errorf("Resize: give either scales or sizes (height, width), got scales %v and sizes %v", o.Scales, o.Sizes)
	case len(o.Scales) > 0 && (len(o.Scales) != 2 || !(o.Scales[0] > 0) || !(o.Scales[1] > 0) || math.IsInf(float64(o.Scales[0]), 0) || math.IsInf(float64(o.Scales[1]), 0)):
		err = fmt.Errorf("Resize: scales %v, want two positive finite factors (height, width)", o.Scales)
	case len(o.Sizes) > 0 && (len(o.Sizes) != 2 || o.Sizes[0] < 1 || o.Sizes[1] < 1):
		err = fmt.Errorf("Resize: sizes %v, want two sizes >= 1 (height, width)", o.Sizes)
	}
	return bilinear, coord, round, err
}

// outSize is the output size along spatial axis k (0: height) for an
// input size in (-1: unknown), and the scale the coordinates use.
func (o *Resize) outSize(k, in int) (int, float64, error) {
	if len(o.Sizes) > 0 {
		if in < 0 {
			return o.Sizes[k], 0, nil
		}
		return o.Sizes[k], float64(o.Sizes[k]) / float64(in), nil
	}
	s := float64(o.Scales[k])
	if in < 0 {
		return -1, s, nil
	}
	out := int(math.Floor(float64(in) * s))
	if out < 1 {
		return 0, 0, fmt.Errorf("Resize: scale %v of an axis of %d gives %d pixels", o.Scales[k], in, out)
	}
	return out, s, nil
}

// Shapes implements Op.
func (o *Resize) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("takes 1 input, got %d", len(in))
	}
	if _, _, _, err := o.config(); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) != 4 {
		return nil, fmt.Errorf("Resize: input shape %s, want (batch, height, width, channels)", shapeText(s))
	}
	oh, _, err := o.outSize(0, s[1])
	if err != nil {
		return nil, fmt.Errorf("%w (input %s)", err, shapeText(s))
	}
	ow, _, err := o.outSize(1, s[2])
	if err != nil {
		return nil, fmt.Errorf("%w (input %s)", err, shapeText(s))
	}
	return [][]int{{s[0], oh, ow, s[3]}}, nil
}

// resizeState is a Resize's per-session state: the kernels' plan for the
// last input shape (Forward and Backward see the same one) and the task.
type resizeState struct {
	shape []int
	plan  kernels.ResizePlan
	task  resizeTask
}

func (o *Resize) plan(c *Call, in []int) (*resizeState, error) {
	st := stateOf[resizeState](c)
	if st.shape != nil && tensor.EqualShape(st.shape, in) {
		return st, nil
	}
	bilinear, coord, round, err := o.config()
	if err != nil {
		return nil, err
	}
	if len(in) != 4 {
		return nil, fmt.Errorf("Resize: input shape %s, want (batch, height, width, channels)", tensor.ShapeString(in))
	}
	oh, sh, err := o.outSize(0, in[1])
	if err != nil {
		return nil, err
	}
	ow, sw, err := o.outSize(1, in[2])
	if err != nil {
		return nil, err
	}
	g := kernels.ResizeGeom{N: in[0], H: in[1], W: in[2], C: in[3], OH: oh, OW: ow, ScaleH: sh, ScaleW: sw, Coord: coord, Nearest: round}
	if err := st.plan.Reset(g, bilinear); err != nil {
		return nil, fmt.Errorf("Resize: %w", err)
	}
	st.shape = append(st.shape[:0], in...)
	return st, nil
}

// resizeTask runs the plan over output rows (forward) or images
// (backward, whose rows add into shared input rows).
type resizeTask struct {
	p        *kernels.ResizePlan
	backward bool
	x, y     []float32 // input and output (backward: din and dout)
}

func (t *resizeTask) Run(lo, hi int) {
	if t.backward {
		g := t.p.Geom()
		clear(t.x[lo*g.H*g.W*g.C : hi*g.H*g.W*g.C])
		t.p.Grad(t.x, t.y, lo, hi)
		return
	}
	t.p.Rows(t.y, t.x, lo, hi)
}

// Forward implements Op.
func (o *Resize) Forward(c *Call, in, out []*tensor.Tensor) error {
	st, err := o.plan(c, in[0].Shape)
	if err != nil {
		return err
	}
	g := st.plan.Geom()
	if len(out[0].Data) != g.N*g.OH*g.OW*g.C {
		return fmt.Errorf("Resize: output shape %s, want (%d, %d, %d, %d)", tensor.ShapeString(out[0].Shape), g.N, g.OH, g.OW, g.C)
	}
	t := &st.task
	*t = resizeTask{p: &st.plan, x: in[0].Data, y: out[0].Data}
	kernels.Parallel(g.N*g.OH, poolGrain(4*g.OW*g.C), t)
	*t = resizeTask{}
	return nil
}

// Backward implements Op.
func (o *Resize) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	if din[0] == nil {
		return nil
	}
	st, err := o.plan(c, din[0].Shape)
	if err != nil {
		return err
	}
	g := st.plan.Geom()
	if len(dout[0].Data) != g.N*g.OH*g.OW*g.C {
		return fmt.Errorf("Resize: gradient shape %s, want (%d, %d, %d, %d)", tensor.ShapeString(dout[0].Shape), g.N, g.OH, g.OW, g.C)
	}
	t := &st.task
	*t = resizeTask{p: &st.plan, backward: true, x: din[0].Data, y: dout[0].Data}
	kernels.Parallel(g.N, poolGrain(4*g.OH*g.OW*g.C), t)
	*t = resizeTask{}
	return nil
}

func init() {
	mustRegister(func() Op { return &Resize{} })
}
