package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// poolGeom is the shared shape logic of the 2-D pools (valid padding).
type poolGeom struct {
	h, w, c, oh, ow int
}

func (g *poolGeom) build(kind string, in []int, ph, pw, sh, sw int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%s: input shape %s, want (height, width, channels)", kind, tensor.ShapeString(in))
	}
	if ph < 1 || pw < 1 || sh < 1 || sw < 1 {
		return nil, fmt.Errorf("%s: pool %dx%d stride %dx%d, all must be >= 1", kind, ph, pw, sh, sw)
	}
	if in[0] < ph || in[1] < pw {
		return nil, fmt.Errorf("%s: pool %dx%d is larger than input %s", kind, ph, pw, tensor.ShapeString(in))
	}
	g.h, g.w, g.c = in[0], in[1], in[2]
	g.oh, g.ow = (g.h-ph)/sh+1, (g.w-pw)/sw+1
	return []int{g.oh, g.ow, g.c}, nil
}

func (g *poolGeom) checkX(kind string, x *tensor.Tensor) error {
	if g.c == 0 {
		return fmt.Errorf("%s: Forward before Build", kind)
	}
	if x.Dims() != 4 || x.Shape[1] != g.h || x.Shape[2] != g.w || x.Shape[3] != g.c {
		return fmt.Errorf("%s: input shape %s, built for (batch, %d, %d, %d)", kind, tensor.ShapeString(x.Shape), g.h, g.w, g.c)
	}
	return nil
}

func (g *poolGeom) checkDY(kind string, dy *tensor.Tensor, n int) error {
	if dy.Dims() != 4 || dy.Shape[0] != n || dy.Shape[1] != g.oh || dy.Shape[2] != g.ow || dy.Shape[3] != g.c {
		return fmt.Errorf("%s: gradient shape %s, want output shape (%d, %d, %d, %d)", kind, tensor.ShapeString(dy.Shape), n, g.oh, g.ow, g.c)
	}
	return nil
}

// poolStrides fills in the defaults: stride 0 means the pool size.
func poolStrides(ph, pw, sh, sw int) (int, int) {
	if sh == 0 {
		sh = ph
	}
	if sw == 0 {
		sw = pw
	}
	return sh, sw
}

// MaxPool2D takes the maximum over each PoolH x PoolW window (valid
// padding): y[n, oy, ox, c] = max x[n, oy*sh+i, ox*sw+j, c]. Backward sends
// each dy to the input position that won (the first one on ties). The
// common 2x2, stride 2 pool keeps a reference to its input instead of the
// winners' positions, and finds them again in Backward.
type MaxPool2D struct {
	PoolH   int `json:"pool_h"`
	PoolW   int `json:"pool_w"`
	StrideH int `json:"stride_h"` // 0 means PoolH
	StrideW int `json:"stride_w"` // 0 means PoolW

	g      poolGeom
	argmax []int32 // per output value: index of the winner within its image
	n      int
	x      *tensor.Tensor // input of the last Forward (2x2 fast path; not owned)
	y, dx  *tensor.Tensor
	task   pool2x2Task
	// reluGrad is set by Sequential when the layer before is a ReLU: the
	// 2x2 Backward then applies the ReLU's gradient mask too (the winner
	// of a window holds the window's output), and the ReLU passes its
	// gradient through.
	reluGrad bool
}

// fast reports whether the pool is the common 2x2, stride 2 one, which
// has vectorised kernels that find the winner again in Backward instead
// of recording it.
func (p *MaxPool2D) fast() bool {
	sh, sw := poolStrides(p.PoolH, p.PoolW, p.StrideH, p.StrideW)
	return p.PoolH == 2 && p.PoolW == 2 && sh == 2 && sw == 2
}

// poolGrain is the number of images worth handing to another core.
const poolGrain = 4

// pool2x2Task runs the 2x2 max pool kernels over a range of images.
type pool2x2Task struct {
	g        *poolGeom
	backward bool
	reluMask bool
	x, y, dy []float32
	dx       []float32
}

func (t *pool2x2Task) Run(lo, hi int) {
	g := t.g
	rowIn, rowOut := g.w*g.c, g.ow*g.c
	in, out := g.h*rowIn, g.oh*rowOut
	for b := lo; b < hi; b++ {
		x, y := t.x[b*in:(b+1)*in], t.y[b*out:(b+1)*out]
		if !t.backward {
			for oy := range g.oh {
				kernels.MaxPool2x2Row(y[oy*rowOut:], x[2*oy*rowIn:], x[(2*oy+1)*rowIn:], g.ow, g.c)
			}
			continue
		}
		dx, dy := t.dx[b*in:(b+1)*in], t.dy[b*out:(b+1)*out]
		for oy := range g.oh {
			r0, r1 := 2*oy*rowIn, (2*oy+1)*rowIn
			kernels.MaxPool2x2GradRow(dx[r0:r0+rowIn], dx[r1:r1+rowIn], x[r0:], x[r1:], y[oy*rowOut:], dy[oy*rowOut:], g.ow, g.c, t.reluMask)
			if g.w > 2*g.ow { // odd width: the last column is in no window
				clear(dx[r0+2*g.ow*g.c : r0+rowIn])
				clear(dx[r1+2*g.ow*g.c : r1+rowIn])
			}
		}
		clear(dx[2*g.oh*rowIn:]) // odd height: the last row
	}
}

// NewMaxPool2D returns a square max pool; stride 0 means stride = size.
func NewMaxPool2D(size, stride int) *MaxPool2D {
	return &MaxPool2D{PoolH: size, PoolW: size, StrideH: stride, StrideW: stride}
}

func (p *MaxPool2D) Kind() string { return "MaxPool2D" }

func (p *MaxPool2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	sh, sw := poolStrides(p.PoolH, p.PoolW, p.StrideH, p.StrideW)
	return p.g.build("MaxPool2D", in, p.PoolH, p.PoolW, sh, sw)
}

func (p *MaxPool2D) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	g := &p.g
	if err := g.checkX("MaxPool2D", x); err != nil {
		return nil, err
	}
	sh, sw := poolStrides(p.PoolH, p.PoolW, p.StrideH, p.StrideW)
	n, c := x.Shape[0], g.c
	p.n = n
	p.y = tensor.Reuse(p.y, n, g.oh, g.ow, c)
	if p.fast() {
		p.x = x
		p.task = pool2x2Task{g: g, x: x.Data, y: p.y.Data}
		kernels.Parallel(n, poolGrain, &p.task)
		p.task = pool2x2Task{}
		return p.y, nil
	}
	p.x = nil
	need := len(p.y.Data)
	if cap(p.argmax) < need {
		p.argmax = make([]int32, need)
	}
	p.argmax = p.argmax[:need]
	in := g.h * g.w * c
	o := 0
	for b := 0; b < n; b++ {
		img := x.Data[b*in : (b+1)*in]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y, arg := p.y.Data[o:o+c], p.argmax[o:o+c]
				o += c
				first := (oy*sh*g.w + ox*sw) * c
				copy(y, img[first:first+c])
				for ch := range arg {
					arg[ch] = int32(first + ch)
				}
				for i := 0; i < p.PoolH; i++ {
					for j := 0; j < p.PoolW; j++ {
						if i == 0 && j == 0 {
							continue
						}
						base := ((oy*sh+i)*g.w + ox*sw + j) * c
						for ch, v := range img[base : base+c] {
							if v > y[ch] {
								y[ch] = v
								arg[ch] = int32(base + ch)
							}
						}
					}
				}
			}
		}
	}
	return p.y, nil
}

func (p *MaxPool2D) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	g := &p.g
	if p.y == nil {
		return nil, fmt.Errorf("MaxPool2D: Backward before Forward")
	}
	if err := g.checkDY("MaxPool2D", dy, p.n); err != nil {
		return nil, err
	}
	p.dx = tensor.Reuse(p.dx, p.n, g.h, g.w, g.c)
	if p.x != nil {
		p.task = pool2x2Task{g: g, backward: true, reluMask: p.reluGrad, x: p.x.Data, y: p.y.Data, dy: dy.Data, dx: p.dx.Data}
		kernels.Parallel(p.n, poolGrain, &p.task)
		p.task = pool2x2Task{}
		return p.dx, nil
	}
	p.dx.Zero()
	in, out := g.h*g.w*g.c, g.oh*g.ow*g.c
	for b := 0; b < p.n; b++ {
		dx := p.dx.Data[b*in : (b+1)*in]
		for i, a := range p.argmax[b*out : (b+1)*out] {
			dx[a] += dy.Data[b*out+i]
		}
	}
	return p.dx, nil
}

func (p *MaxPool2D) Params() []*Param { return nil }

// AveragePool2D averages each PoolH x PoolW window (valid padding).
// Backward spreads dy / (PoolH*PoolW) evenly over the window.
type AveragePool2D struct {
	PoolH   int `json:"pool_h"`
	PoolW   int `json:"pool_w"`
	StrideH int `json:"stride_h"` // 0 means PoolH
	StrideW int `json:"stride_w"` // 0 means PoolW

	g     poolGeom
	n     int
	y, dx *tensor.Tensor
}

// NewAveragePool2D returns a square average pool; stride 0 means stride = size.
func NewAveragePool2D(size, stride int) *AveragePool2D {
	return &AveragePool2D{PoolH: size, PoolW: size, StrideH: stride, StrideW: stride}
}

func (p *AveragePool2D) Kind() string { return "AveragePool2D" }

func (p *AveragePool2D) Build(in []int, rng *rand.Rand) ([]int, error) {
	sh, sw := poolStrides(p.PoolH, p.PoolW, p.StrideH, p.StrideW)
	return p.g.build("AveragePool2D", in, p.PoolH, p.PoolW, sh, sw)
}

func (p *AveragePool2D) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	g := &p.g
	if err := g.checkX("AveragePool2D", x); err != nil {
		return nil, err
	}
	sh, sw := poolStrides(p.PoolH, p.PoolW, p.StrideH, p.StrideW)
	n, c := x.Shape[0], g.c
	p.n = n
	p.y = tensor.Reuse(p.y, n, g.oh, g.ow, c)
	scale := 1 / float32(p.PoolH*p.PoolW)
	in := g.h * g.w * c
	o := 0
	for b := 0; b < n; b++ {
		img := x.Data[b*in : (b+1)*in]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y := p.y.Data[o : o+c]
				o += c
				clear(y)
				for i := 0; i < p.PoolH; i++ {
					for j := 0; j < p.PoolW; j++ {
						base := ((oy*sh+i)*g.w + ox*sw + j) * c
						for ch, v := range img[base : base+c] {
							y[ch] += v
						}
					}
				}
				for ch := range y {
					y[ch] *= scale
				}
			}
		}
	}
	return p.y, nil
}

func (p *AveragePool2D) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	g := &p.g
	if p.y == nil {
		return nil, fmt.Errorf("AveragePool2D: Backward before Forward")
	}
	if err := g.checkDY("AveragePool2D", dy, p.n); err != nil {
		return nil, err
	}
	sh, sw := poolStrides(p.PoolH, p.PoolW, p.StrideH, p.StrideW)
	c := g.c
	p.dx = tensor.Reuse(p.dx, p.n, g.h, g.w, c)
	p.dx.Zero()
	scale := 1 / float32(p.PoolH*p.PoolW)
	in := g.h * g.w * c
	o := 0
	for b := 0; b < p.n; b++ {
		dx := p.dx.Data[b*in : (b+1)*in]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				d := dy.Data[o : o+c]
				o += c
				for i := 0; i < p.PoolH; i++ {
					for j := 0; j < p.PoolW; j++ {
						base := ((oy*sh+i)*g.w + ox*sw + j) * c
						for ch, v := range d {
							dx[base+ch] += v * scale
						}
					}
				}
			}
		}
	}
	return p.dx, nil
}

func (p *AveragePool2D) Params() []*Param { return nil }

// GlobalAveragePool averages over height and width: (N, H, W, C) -> (N, C).
type GlobalAveragePool struct {
	h, w, c int
	n       int
	y, dx   *tensor.Tensor
}

// NewGlobalAveragePool returns a global average pool.
func NewGlobalAveragePool() *GlobalAveragePool { return &GlobalAveragePool{} }

func (p *GlobalAveragePool) Kind() string { return "GlobalAveragePool" }

func (p *GlobalAveragePool) Build(in []int, rng *rand.Rand) ([]int, error) {
	if len(in) != 3 || in[0] < 1 || in[1] < 1 {
		return nil, fmt.Errorf("GlobalAveragePool: input shape %s, want (height, width, channels)", tensor.ShapeString(in))
	}
	p.h, p.w, p.c = in[0], in[1], in[2]
	return []int{p.c}, nil
}

func (p *GlobalAveragePool) Forward(x *tensor.Tensor, training bool) (*tensor.Tensor, error) {
	if p.c == 0 {
		return nil, fmt.Errorf("GlobalAveragePool: Forward before Build")
	}
	if x.Dims() != 4 || x.Shape[1] != p.h || x.Shape[2] != p.w || x.Shape[3] != p.c {
		return nil, fmt.Errorf("GlobalAveragePool: input shape %s, built for (batch, %d, %d, %d)", tensor.ShapeString(x.Shape), p.h, p.w, p.c)
	}
	n, c, hw := x.Shape[0], p.c, p.h*p.w
	p.n = n
	p.y = tensor.Reuse(p.y, n, c)
	scale := 1 / float32(hw)
	for b := 0; b < n; b++ {
		y := p.y.Data[b*c : (b+1)*c]
		clear(y)
		img := x.Data[b*hw*c : (b+1)*hw*c]
		for i := 0; i < len(img); i += c {
			for ch, v := range img[i : i+c] {
				y[ch] += v
			}
		}
		for ch := range y {
			y[ch] *= scale
		}
	}
	return p.y, nil
}

func (p *GlobalAveragePool) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if p.y == nil {
		return nil, fmt.Errorf("GlobalAveragePool: Backward before Forward")
	}
	if !dy.SameShape(p.y) {
		return nil, fmt.Errorf("GlobalAveragePool: gradient shape %s, want output shape %s", tensor.ShapeString(dy.Shape), tensor.ShapeString(p.y.Shape))
	}
	n, c, hw := p.n, p.c, p.h*p.w
	p.dx = tensor.Reuse(p.dx, n, p.h, p.w, c)
	scale := 1 / float32(hw)
	for b := 0; b < n; b++ {
		d := dy.Data[b*c : (b+1)*c]
		img := p.dx.Data[b*hw*c : (b+1)*hw*c]
		for i := 0; i < len(img); i += c {
			for ch, v := range d {
				img[i+ch] = v * scale
			}
		}
	}
	return p.dx, nil
}

func (p *GlobalAveragePool) Params() []*Param { return nil }
