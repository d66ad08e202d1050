package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// Padding says how a convolution pads its input. Mode is "valid" (no
// padding; also the meaning of ""), "same" (TensorFlow's rule: the output
// has ceil(in/stride) pixels; the total padding max((ceil(in/s)-1)*s+k-in, 0)
// is split with the extra pixel at the bottom/right) or "explicit" (Top,
// Bottom, Left, Right zero pixels).
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

// Explicit pads p zero pixels on every side.
func Explicit(p int) Padding {
	return Padding{Mode: "explicit", Top: p, Bottom: p, Left: p, Right: p}
}

func (p Padding) String() string {
	if p.Mode == "explicit" {
		return fmt.Sprintf("explicit(top %d, bottom %d, left %d, right %d)", p.Top, p.Bottom, p.Left, p.Right)
	}
	return p.Mode
}

// resolve returns the padding before and after along one axis of size in,
// for a kernel of size k and stride s. vertical selects Top/Bottom.
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

// convGeometry resolves padding and output size along one axis.
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

// The im2col buffer holds the patches of the whole batch when they fit in
// keepColFloats (16 MB), so that Backward reuses them. Otherwise batches
// are processed in chunks of whole images whose patches fit in
// chunkColFloats (1.6 MB, about a core's L2 cache): the patches are then
// read by the GEMM while still cached, and recomputed in Backward, which
// costs less than a round trip through memory.
const (
	keepColFloats  = 4 << 20
	chunkColFloats = 400 << 10
)

// Conv2D is a 2-D convolution over NHWC input (cross-correlation, as in
// every CNN framework):
//
//	y[n, oy, ox, f] = b[f] + sum_{ky, kx, c} x[n, oy*sh-pt+ky, ox*sw-pl+kx, c] * W[ky, kx, c, f]
//
// The kernel W is stored as (KH, KW, Cin, Filters). Forward unfolds the
// input with im2col into patches (N*OH*OW x KH*KW*Cin) and multiplies them
// by W viewed as (KH*KW*Cin x Filters), which gives the NHWC output. The
// backward pass is two more GEMMs: dW = patches^T dY and
// dPatches = dY W^T, folded back onto dX with col2im.
type Conv2D struct {
	Filters     int         `json:"filters"`
	KernelH     int         `json:"kernel_h"`
	KernelW     int         `json:"kernel_w"`
	StrideH     int         `json:"stride_h"`
	StrideW     int         `json:"stride_w"`
	Padding     Padding     `json:"padding"`
	UseBias     bool        `json:"use_bias"`
	Initializer Initializer `json:"-"` // kernel init; nil means GlorotUniform

	kernel, bias *Param
	h, w, cin    int // input size
	oh, ow       int // output size
	padT, padL   int
	direct       bool // 1x1, stride 1, no padding: x is its own im2col
	maxChunk     int  // most images whose patches fit in chunkColFloats
	keepFloats   int  // keepColFloats (tests lower it to force chunks)
	chunk        int  // images per im2col chunk in the last Forward
	skipDX       bool

	x        *tensor.Tensor // input of the last Forward (not owned)
	col      []float32      // im2col buffer (chunk images)
	colValid bool           // col holds the patches of the whole last batch
	y, dx    *tensor.Tensor
	task     convTask
	sums     colSums
}

// convGrain is the number of images worth handing to another core.
const convGrain = 2

// convTask runs the per-image work of a convolution (im2col with the bias
// broadcast, or col2im) over a range of the images of one chunk.
type convTask struct {
	c        *Conv2D
	backward bool
	x, col   []float32 // images of the chunk, their patches
	out      []float32 // forward: the chunk's output rows; backward: its dx
}

func (t *convTask) Run(lo, hi int) {
	c := t.c
	k := c.KernelH * c.KernelW * c.cin
	in, rows := c.h*c.w*c.cin, c.oh*c.ow
	col := t.col[lo*rows*k : hi*rows*k]
	if t.backward {
		dx := t.out[lo*in : hi*in]
		clear(dx) // col2im accumulates
		kernels.Col2im(dx, col, hi-lo, c.h, c.w, c.cin, c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.padT, c.padL, c.oh, c.ow)
		return
	}
	if t.x != nil {
		kernels.Im2col(col, t.x[lo*in:hi*in], hi-lo, c.h, c.w, c.cin,
			c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.padT, c.padL, c.oh, c.ow)
	}
	if c.bias != nil && t.out != nil {
		f := c.Filters
		broadcastRows(t.out[lo*rows*f:hi*rows*f], c.bias.Value.Data)
	}
}

// NewConv2D returns a square convolution with filters output channels,
// bias on and Glorot-uniform kernel initialisation.
func NewConv2D(filters, kernelSize, stride int, pad Padding) *Conv2D {
	return &Conv2D{Filters: filters, KernelH: kernelSize, KernelW: kernelSize,
		StrideH: stride, StrideW: stride, Padding: pad, UseBias: true}
}

func (c *Conv2D) Kind() string { return "Conv2D" }

// SkipInputGrad stops Backward from computing dL/dx (it returns nil).
func (c *Conv2D) SkipInputGrad(skip bool) { c.skipDX = skip }

func (c *Conv2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("Conv2D: input shape %s, want (height, width, channels)", tensor.ShapeString(in))
	}
	if c.Filters < 1 {
		return nil, fmt.Errorf("Conv2D: filters = %d, want >= 1", c.Filters)
	}
	c.h, c.w, c.cin = in[0], in[1], in[2]
	var err error
	if c.oh, c.padT, err = convGeometry(c.h, c.KernelH, c.StrideH, c.Padding, true); err == nil {
		c.ow, c.padL, err = convGeometry(c.w, c.KernelW, c.StrideW, c.Padding, false)
	}
	if err != nil {
		return nil, fmt.Errorf("Conv2D %dx%d stride %dx%d padding %s on input %s: %v",
			c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.Padding, tensor.ShapeString(in), err)
	}
	k := c.KernelH * c.KernelW * c.cin
	c.direct = c.KernelH == 1 && c.KernelW == 1 && c.StrideH == 1 && c.StrideW == 1 &&
		c.padT == 0 && c.padL == 0 && c.oh == c.h && c.ow == c.w
	c.maxChunk = max(1, chunkColFloats/max(1, c.oh*c.ow*k))
	c.keepFloats = keepColFloats

	kernel := tensor.New(c.KernelH, c.KernelW, c.cin, c.Filters)
	init := c.Initializer
	if init == nil {
		init = GlorotUniform
	}
	// Keras' fans for conv kernels: receptive field times channels.
	init(kernel.Data, k, c.KernelH*c.KernelW*c.Filters, rng)
	c.kernel = NewParam("kernel", kernel)
	c.bias = nil
	if c.UseBias {
		c.bias = NewParam("bias", tensor.New(c.Filters))
	}
	c.colValid = false
	return []int{c.oh, c.ow, c.Filters}, nil
}

func (c *Conv2D) Params() []*Param {
	if c.bias != nil {
		return []*Param{c.kernel, c.bias}
	}
	return []*Param{c.kernel}
}

func (c *Conv2D) checkInput(x *tensor.Tensor) error {
	if c.kernel == nil {
		return fmt.Errorf("Conv2D: Forward before Build")
	}
	if x.Dims() != 4 || x.Shape[1] != c.h || x.Shape[2] != c.w || x.Shape[3] != c.cin {
		return fmt.Errorf("Conv2D: input shape %s, built for (batch, %d, %d, %d)", tensor.ShapeString(x.Shape), c.h, c.w, c.cin)
	}
	return nil
}

// patches returns the im2col matrix for images [b0, b0+nb) of x. When
// out is not nil it also broadcasts the bias into it (the output rows of
// those images), in the same parallel pass.
func (c *Conv2D) patches(x *tensor.Tensor, b0, nb int, out []float32) []float32 {
	in := c.h * c.w * c.cin
	var col []float32
	c.task = convTask{c: c, out: out}
	if c.direct {
		col = x.Data[b0*in : (b0+nb)*in]
	} else {
		k := c.KernelH * c.KernelW * c.cin
		need := c.chunk * c.oh * c.ow * k
		if cap(c.col) < need {
			c.col = make([]float32, need)
		}
		col = c.col[:nb*c.oh*c.ow*k]
		c.task.x = x.Data[b0*in : (b0+nb)*in]
	}
	c.task.col = col
	if c.task.x != nil || (out != nil && c.bias != nil) {
		kernels.Parallel(nb, convGrain, &c.task)
	}
	c.task = convTask{}
	return col
}

func (c *Conv2D) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if err := c.checkInput(x); err != nil {
		return nil, err
	}
	n, f := x.Shape[0], c.Filters
	k := c.KernelH * c.KernelW * c.cin
	c.x = x
	c.chunk = n
	if n*c.oh*c.ow*k > c.keepFloats {
		// Equal chunks (5+5 rather than 8+2) balance the GEMMs.
		chunks := (n + c.maxChunk - 1) / c.maxChunk
		c.chunk = max(1, (n+chunks-1)/max(1, chunks))
	}
	c.y = tensor.Reuse(c.y, n, c.oh, c.ow, f)
	rows := c.oh * c.ow
	beta := float32(0)
	if c.bias != nil {
		beta = 1 // patches broadcast the bias into the output
	}
	for b0 := 0; b0 < n; b0 += c.chunk {
		nb := min(c.chunk, n-b0)
		out := c.y.Data[b0*rows*f : (b0+nb)*rows*f]
		col := c.patches(x, b0, nb, out)
		kernels.Sgemm(false, false, nb*rows, f, k, 1, col, k, c.kernel.Value.Data, f, beta, out, f)
	}
	c.colValid = n <= c.chunk
	return c.y, nil
}

func (c *Conv2D) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if c.x == nil {
		return nil, fmt.Errorf("Conv2D: Backward before Forward")
	}
	n, f := c.x.Shape[0], c.Filters
	if dy.Dims() != 4 || dy.Shape[0] != n || dy.Shape[1] != c.oh || dy.Shape[2] != c.ow || dy.Shape[3] != f {
		return nil, fmt.Errorf("Conv2D: gradient shape %s, want output shape (%d, %d, %d, %d)",
			tensor.ShapeString(dy.Shape), n, c.oh, c.ow, f)
	}
	k := c.KernelH * c.KernelW * c.cin
	rows := c.oh * c.ow
	in := c.h * c.w * c.cin
	if !c.skipDX {
		c.dx = tensor.Reuse(c.dx, c.x.Shape...)
	}
	if c.bias != nil {
		c.sums.add(c.bias.Grad.Data, dy.Data)
	}
	for b0 := 0; b0 < n; b0 += c.chunk {
		nb := min(c.chunk, n-b0)
		var col []float32
		if c.colValid && !c.direct {
			col = c.col[:nb*rows*k]
		} else {
			col = c.patches(c.x, b0, nb, nil) // recomputed, or x itself when direct
		}
		g := dy.Data[b0*rows*f : (b0+nb)*rows*f]
		// dW += patches^T dY
		kernels.Sgemm(true, false, k, f, nb*rows, 1, col, k, g, f, 1, c.kernel.Grad.Data, f)
		if c.skipDX {
			continue
		}
		dx := c.dx.Data[b0*in : (b0+nb)*in]
		if c.direct {
			kernels.Sgemm(false, true, nb*rows, k, f, 1, g, f, c.kernel.Value.Data, f, 0, dx, k)
			continue
		}
		// dPatches = dY W^T, written over the patches (no longer needed),
		// then folded back onto the input gradient.
		kernels.Sgemm(false, true, nb*rows, k, f, 1, g, f, c.kernel.Value.Data, f, 0, col, k)
		c.colValid = false
		c.task = convTask{c: c, backward: true, col: col, out: dx}
		kernels.Parallel(nb, convGrain, &c.task)
		c.task = convTask{}
	}
	if c.skipDX {
		return nil, nil
	}
	return c.dx, nil
}

// colSums adds the column sums of a row-major matrix to dst (the bias
// gradient: dst[j] += sum_i m[i*len(dst)+j]) using all cores. Each part
// accumulates whole blocks of lcm(len(dst), 8) values at a time into its
// own scratch with the vectorised kernels.Add, then the blocks are folded.
type colSums struct {
	m       []float32
	f, blk  int
	parts   int
	scratch []float32 // parts x blk
}

// colSumsMin is the matrix size below which colSums stays on one core.
const colSumsMin = 1 << 15

func (s *colSums) add(dst, m []float32) {
	f := len(dst)
	blk := f
	for blk%8 != 0 {
		blk += f
	}
	for blk < 256 {
		blk *= 2
	}
	blocks := len(m) / blk
	s.parts = 1
	if len(m) >= colSumsMin {
		s.parts = max(1, min(kernels.Threads(), blocks))
	}
	if len(s.scratch) < s.parts*blk {
		s.scratch = make([]float32, s.parts*blk)
	}
	s.m, s.f, s.blk = m[:blocks*blk], f, blk
	clear(s.scratch[:s.parts*blk])
	kernels.Parallel(s.parts, 1, s)
	for p := range s.parts {
		acc := s.scratch[p*blk : (p+1)*blk]
		for r := 0; r < blk; r += f {
			kernels.Add(dst, acc[r:r+f])
		}
	}
	for r := blocks * blk; r < len(m); r += f { // rows after the last block
		kernels.Add(dst, m[r:r+f])
	}
	s.m = nil
}

// Run sums the blocks of parts [lo, hi).
func (s *colSums) Run(lo, hi int) {
	blocks := len(s.m) / s.blk
	for p := lo; p < hi; p++ {
		acc := s.scratch[p*s.blk : (p+1)*s.blk]
		for b := p * blocks / s.parts; b < (p+1)*blocks/s.parts; b++ {
			kernels.Add(acc, s.m[b*s.blk:(b+1)*s.blk])
		}
	}
}

// broadcastRows copies row into every row of m (len(m) a multiple of
// len(row)), doubling the filled prefix each time: a few long copies
// instead of one short copy per row.
func broadcastRows(m, row []float32) {
	if len(m) == 0 {
		return
	}
	done := copy(m, row)
	for done < len(m) {
		done += copy(m[done:], m[:done])
	}
}
