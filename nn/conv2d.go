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

// Forward and Backward give each core (kernels.Threads) its own share of
// the batch, which it processes alone: im2col, GEMMs on one core
// (kernels.SgemmSerial), col2im. When the patches of the whole batch fit
// in keepColFloats (16 MB) they are kept for Backward; otherwise each core
// unfolds its images in chunks whose patches fit in chunkColFloats
// (1.6 MB, about a core's L2 cache), so that the GEMMs read them while
// still cached, and Backward unfolds them again, which costs less than a
// round trip through memory.
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
// dPatches = dY W^T, folded back onto dX with col2im. One-channel stride-1
// convolutions (e.g. LeNet's first layer), whose GEMMs would be too
// skinny to run well, use direct kernels (kernels.Conv1Chan and
// Conv1ChanGrad) where the CPU has them.
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
	skipDX       bool

	x        *tensor.Tensor // input of the last Forward (not owned)
	col      []float32      // patches: the whole batch (kept) or one chunk per part
	kept     bool           // col holds the patches of the whole last batch
	oneChan  bool           // last Forward used kernels.Conv1Chan (no patches)
	padBuf   []float32      // Conv1Chan's padded image, per part
	zeroBias []float32      // Conv1Chan's bias when UseBias is off
	parts    int            // shares of the batch in the last Forward
	y, dx    *tensor.Tensor
	task     convTask
	fuseReLU bool      // apply the following ReLU layer here (see reluFuser)
	biasTile []float32 // the bias repeated over sumBlock(Filters) values
	partGrad []float32 // dW and db of parts 1.. (part 0 adds to the Params)
	sumBuf   []float32 // column-sum scratch, per part
}

// convTask runs one pass of the convolution over parts of the batch.
type convTask struct {
	c        *Conv2D
	backward bool
	x, dy    []float32
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
	c.kept = false
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

// unfold returns the patches of images [b0, b0+nb) of part p, computing
// them unless kept (reuse) holds them already.
func (c *Conv2D) unfold(p, b0, nb int, reuse bool) []float32 {
	in, rows, k := c.h*c.w*c.cin, c.oh*c.ow, c.KernelH*c.KernelW*c.cin
	if c.direct {
		return c.x.Data[b0*in : (b0+nb)*in]
	}
	var col []float32
	if c.kept {
		col = c.col[b0*rows*k : (b0+nb)*rows*k]
	} else {
		per := c.maxChunk * rows * k
		col = c.col[p*per : p*per+nb*rows*k]
	}
	if !reuse {
		kernels.Im2col(col, c.x.Data[b0*in:(b0+nb)*in], nb, c.h, c.w, c.cin,
			c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.padT, c.padL, c.oh, c.ow)
	}
	return col
}

// Run processes parts [lo, hi) of the batch (see Conv2D.parts).
func (t *convTask) Run(lo, hi int) {
	for p := lo; p < hi; p++ {
		if t.backward {
			t.c.backwardPart(p, t.dy)
		} else {
			t.c.forwardPart(p)
		}
	}
}

// partRange is the images of part p.
func (c *Conv2D) partRange(p int) (b0, b1 int) {
	n := c.x.Shape[0]
	return p * n / c.parts, (p + 1) * n / c.parts
}

// chunkOf is the number of images per im2col chunk.
func (c *Conv2D) chunkOf(b0, b1 int) int {
	if c.kept || c.direct {
		return max(1, b1-b0)
	}
	return c.maxChunk
}

func (c *Conv2D) forwardPart(p int) {
	f, k, rows := c.Filters, c.KernelH*c.KernelW*c.cin, c.oh*c.ow
	b0, b1 := c.partRange(p)
	if c.oneChan {
		bias := c.zeroBias
		if c.bias != nil {
			bias = c.bias.Value.Data
		}
		in, pl := c.h*c.w, kernels.PaddedLen(c.oh, c.ow, c.KernelH, c.KernelW)
		kernels.Conv1Chan(c.y.Data[b0*rows*f:b1*rows*f], c.x.Data[b0*in:b1*in], b1-b0, c.h, c.w, c.padT, c.padL,
			c.oh, c.ow, c.KernelH, c.KernelW, c.kernel.Value.Data, bias, f, c.fuseReLU, c.padBuf[p*pl:(p+1)*pl])
		return
	}
	step := c.chunkOf(b0, b1)
	for b := b0; b < b1; b += step {
		nb := min(step, b1-b)
		col := c.unfold(p, b, nb, false)
		out := c.y.Data[b*rows*f : (b+nb)*rows*f]
		kernels.SgemmSerial(false, false, nb*rows, f, k, 1, col, k, c.kernel.Value.Data, f, 0, out, f)
		c.epilogue(out)
	}
}

// epilogue adds the bias to the output rows out, and applies the fused
// ReLU, while they are still in cache.
func (c *Conv2D) epilogue(out []float32) {
	if c.bias == nil {
		if c.fuseReLU {
			kernels.Relu(out, out)
		}
		return
	}
	f, tile := c.Filters, c.biasTile
	full := len(out) / len(tile) * len(tile)
	for i := 0; i < full; i += len(tile) {
		if c.fuseReLU {
			kernels.AddRelu(out[i:i+len(tile)], tile)
		} else {
			kernels.Add(out[i:i+len(tile)], tile)
		}
	}
	for r := full; r < len(out); r += f {
		if c.fuseReLU {
			kernels.AddRelu(out[r:r+f], c.bias.Value.Data)
		} else {
			kernels.Add(out[r:r+f], c.bias.Value.Data)
		}
	}
}

// setFusedReLU implements reluFuser.
func (c *Conv2D) setFusedReLU(on bool) { c.fuseReLU = on }

func (c *Conv2D) backwardPart(p int, dyAll []float32) {
	f, k, rows := c.Filters, c.KernelH*c.KernelW*c.cin, c.oh*c.ow
	in := c.h * c.w * c.cin
	b0, b1 := c.partRange(p)
	dw := c.kernel.Grad.Data
	var db []float32
	if c.bias != nil {
		db = c.bias.Grad.Data
	}
	if p > 0 { // private sums, added to the Params after all parts finish
		g := c.partGrad[(p-1)*(k*f+f) : p*(k*f+f)]
		clear(g)
		dw, db = g[:k*f], g[k*f:]
	}
	if c.bias != nil {
		sumColumns(db, dyAll[b0*rows*f:b1*rows*f], c.sumBuf[p*sumBlock(f):(p+1)*sumBlock(f)])
	}
	if c.oneChan && c.skipDX {
		in, pl := c.h*c.w, kernels.PaddedLen(c.oh, c.ow, c.KernelH, c.KernelW)
		if kernels.Conv1ChanGrad(dw, c.x.Data[b0*in:b1*in], dyAll[b0*rows*f:b1*rows*f], b1-b0, c.h, c.w,
			c.padT, c.padL, c.oh, c.ow, c.KernelH, c.KernelW, f, c.padBuf[p*pl:(p+1)*pl]) {
			return
		}
	}
	step := c.chunkOf(b0, b1)
	for b := b0; b < b1; b += step {
		nb := min(step, b1-b)
		col := c.unfold(p, b, nb, c.kept)
		g := dyAll[b*rows*f : (b+nb)*rows*f]
		// dW += patches^T dY
		kernels.SgemmSerial(true, false, k, f, nb*rows, 1, col, k, g, f, 1, dw, f)
		if c.skipDX {
			continue
		}
		dx := c.dx.Data[b*in : (b+nb)*in]
		if c.direct {
			kernels.SgemmSerial(false, true, nb*rows, k, f, 1, g, f, c.kernel.Value.Data, f, 0, dx, k)
			continue
		}
		// dPatches = dY W^T, written over the patches (no longer needed),
		// then folded back onto the input gradient.
		kernels.SgemmSerial(false, true, nb*rows, k, f, 1, g, f, c.kernel.Value.Data, f, 0, col, k)
		clear(dx) // col2im accumulates
		kernels.Col2im(dx, col, nb, c.h, c.w, c.cin, c.KernelH, c.KernelW, c.StrideH, c.StrideW, c.padT, c.padL, c.oh, c.ow)
	}
}

func (c *Conv2D) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if err := c.checkInput(x); err != nil {
		return nil, err
	}
	n, f := x.Shape[0], c.Filters
	k, rows := c.KernelH*c.KernelW*c.cin, c.oh*c.ow
	c.x = x
	c.parts = max(1, min(kernels.Threads(), n))
	// One input channel, stride 1: a direct kernel instead of im2col and a
	// skinny GEMM (Backward unfolds the patches for dW).
	c.oneChan = c.cin == 1 && c.StrideH == 1 && c.StrideW == 1 && kernels.Conv1ChanSupported(f, c.ow)
	c.kept = !c.direct && !c.oneChan && training && n*rows*k <= c.keepFloats
	need := 0
	if c.oneChan {
		if pl := c.parts * kernels.PaddedLen(c.oh, c.ow, c.KernelH, c.KernelW); len(c.padBuf) < pl {
			c.padBuf = make([]float32, pl)
		}
		if c.bias == nil && len(c.zeroBias) < f {
			c.zeroBias = make([]float32, f)
		}
	}
	switch {
	case c.direct:
	case c.kept:
		need = n * rows * k
	default:
		need = c.parts * c.maxChunk * rows * k
	}
	if len(c.col) < need {
		c.col = make([]float32, need)
	}
	c.y = tensor.Reuse(c.y, n, c.oh, c.ow, f)
	if c.bias != nil {
		if len(c.biasTile) != sumBlock(f) {
			c.biasTile = make([]float32, sumBlock(f))
		}
		for j := range c.biasTile {
			c.biasTile[j] = c.bias.Value.Data[j%f]
		}
	}
	c.task = convTask{c: c}
	kernels.Parallel(c.parts, 1, &c.task)
	c.task = convTask{}
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
	if !c.skipDX {
		c.dx = tensor.Reuse(c.dx, c.x.Shape...)
	}
	if need := (c.parts - 1) * (k*f + f); len(c.partGrad) < need {
		c.partGrad = make([]float32, need)
	}
	if need := c.parts * sumBlock(f); len(c.sumBuf) < need {
		c.sumBuf = make([]float32, need)
	}
	c.task = convTask{c: c, backward: true, dy: dy.Data}
	kernels.Parallel(c.parts, 1, &c.task)
	c.task = convTask{}
	c.kept = false // Backward overwrote the patches with dPatches
	for p := 1; p < c.parts; p++ {
		g := c.partGrad[(p-1)*(k*f+f) : p*(k*f+f)]
		kernels.Add(c.kernel.Grad.Data, g[:k*f])
		if c.bias != nil {
			kernels.Add(c.bias.Grad.Data, g[k*f:])
		}
	}
	if c.skipDX {
		return nil, nil
	}
	return c.dx, nil
}

// sumBlock is the scratch sumColumns needs for rows of f values: a block
// of whole rows that is a multiple of 8 values (one AVX2 vector) and at
// least 256 values long.
func sumBlock(f int) int {
	blk := f
	for blk%8 != 0 {
		blk += f
	}
	for blk < 256 {
		blk *= 2
	}
	return blk
}

// sumColumns adds the column sums of m (rows of len(dst) values) to dst:
// dst[j] += sum_i m[i*len(dst)+j], the bias gradient. It adds whole blocks
// of rows into scratch (sumBlock(len(dst)) values) with the vectorised
// kernels.Add, then folds the block's rows together.
func sumColumns(dst, m, scratch []float32) {
	f := len(dst)
	blk := sumBlock(f)
	acc := scratch[:blk]
	clear(acc)
	full := len(m) / blk * blk
	for i := 0; i < full; i += blk {
		kernels.Add(acc, m[i:i+blk])
	}
	for r := 0; r < blk; r += f {
		kernels.Add(dst, acc[r:r+f])
	}
	for r := full; r < len(m); r += f { // rows after the last whole block
		kernels.Add(dst, m[r:r+f])
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
