package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// convState is a Conv2D's per-Session storage.
type convState struct {
	task convTask
	act  actTask
	col  []float32 // patches: the whole batch (kept) or one chunk per part
	// kept: col holds the patches of the input keptX (keptLen values) of
	// the last training Forward, which Backward reuses.
	kept    bool
	keptX   *float32
	keptLen int
	tile    []float32 // the bias repeated over sumBlock(Filters) values
	zero    []float32 // Conv1Chan's bias without UseBias
	pad     []float32 // Conv1Chan's padded images, per part
	grads   []float32 // dW and db of parts 1.. (part 0 adds to the Params)
	sums    []float32 // column-sum scratch, per part
	wexp    []float32 // the kernel with groups merged (groupMerge)
	dwexp   []float32 // its gradient
	wflip   []float32 // the kernel flipped and transposed (dxGeom)
	wino    []float32 // the Winograd-transformed kernel
	winoDX  []float32 // the same of wflip
	winoAcc []float32 // per part: the Winograd weight gradient's sums
	dw      dwState   // the depthwise path's
}

// convMergeWidth is the GEMM width (filters) a group should reach: the
// AVX2 micro-kernel's 16 columns. Narrower groups (ResNeXt's 32 groups of
// 4) waste most of every tile and pay a GEMM call each.
const convMergeWidth = 16

// groupMerge returns how many groups to merge into one GEMM: the smallest
// divisor m of the groups with m*(Filters/Groups) >= convMergeWidth (all
// of them if there is none). A merged group multiplies its patches by a
// block-diagonal kernel (expandGroups): m times the arithmetic, in GEMMs
// that run far faster than m narrow ones.
func (g *convGeo) groupMerge() int {
	if g.groups == 1 || g.fg() >= convMergeWidth {
		return 1
	}
	for m := 2; m < g.groups; m++ {
		if g.groups%m == 0 && m*g.fg() >= convMergeWidth {
			return m
		}
	}
	return g.groups
}

// expandGroups writes into dst the kernel w (KH, KW, cg, F) of g with its
// groups merged m at a time: (KH, KW, m*cg, F), filter f's weights on the
// rows of its group within the merged block, zeros elsewhere.
func expandGroups(dst, w []float32, g *convGeo, m int) {
	cg, fg, f := g.cg(), g.fg(), g.f
	clear(dst)
	for tap := range g.kh * g.kw {
		for c := range cg {
			src := w[(tap*cg+c)*f : (tap*cg+c+1)*f]
			for j, v := range src {
				sub := j / fg % m
				dst[(tap*m*cg+sub*cg+c)*f+j] = v
			}
		}
	}
}

// gatherGroups adds to dw (KH, KW, cg, F) the entries of the merged
// kernel's gradient dexp that belong to the kernel (expandGroups' layout).
func gatherGroups(dw, dexp []float32, g *convGeo, m int) {
	cg, fg, f := g.cg(), g.fg(), g.f
	for tap := range g.kh * g.kw {
		for c := range cg {
			d := dw[(tap*cg+c)*f : (tap*cg+c+1)*f]
			for j := range d {
				sub := j / fg % m
				d[j] += dexp[(tap*m*cg+sub*cg+c)*f+j]
			}
		}
	}
}

// convMode is what a convTask runs.
type convMode int

const (
	convForward        convMode = iota // lines of the output
	convForwardOneChan                 // images, kernels.Conv1Chan
	convBackward                       // images
)

// convTask runs one pass of a Conv2D over parts of the batch; it lives in
// the op state, so handing it to kernels.Parallel allocates nothing.
type convTask struct {
	g             convGeo
	mode          convMode
	parts         int
	x, y, res     []float32
	dy, dx        []float32
	w, bias, tile []float32
	pw            *kernels.PackedB // w packed (frozen graphs), or nil
	act           Act
	col           []float32
	kept          bool // col holds (forward: receives) the patches of the whole batch
	chunk         int  // output lines per chunk of patches
	dw, db        []float32
	grads, sums   []float32
	pad           []float32
	oneChanGrad   bool // dW by kernels.Conv1ChanGrad where it has a kernel
	wide          bool // fewer parts than cores: parallel GEMMs (convGemm)
	// dxConv: dX is the convolution of dY with wflip (geometry dxg), not
	// col2im of dY W^T (see dxGeom).
	dxConv bool
	dxg    convGeo
	wflip  []float32
	// impl: implicit GEMMs (conv_implicit.go), lines (dxLines) output
	// lines per chunk, region floats of buffer per part.
	impl           bool
	lines, dxLines int
	region         int
	// wino: Winograd forward (conv_winograd.go) with the transformed
	// kernel u, lines tile rows per chunk; dxWino: the input gradient
	// likewise with udx (dxLines tile rows per chunk).
	wino, dxWino bool
	u, udx       []float32
	uPacked      bool // u's planes packed (a frozen graph's)
	// dwWino: the weight gradient by Winograd F(3x3, 2x2), dwLines tile
	// rows per chunk, with acc (per part, 16 planes of Cin x F).
	dwWino  bool
	dwLines int
	acc     []float32
}

// Run processes parts [lo, hi).
func (t *convTask) Run(lo, hi int) {
	for p := lo; p < hi; p++ {
		switch t.mode {
		case convForward:
			t.forwardPart(p)
		case convForwardOneChan:
			t.forwardOneChan(p)
		case convBackward:
			t.backwardPart(p)
		}
	}
}

// colAt returns where the patches of lines [r, e) go and the distance
// between their groups' blocks: inside the whole-batch patches (group
// blocks of all lines) when kept, else in part p's chunk.
func (t *convTask) colAt(p, r, e int) (base []float32, gs int) {
	g := &t.g
	kg := g.kg()
	if t.kept {
		return t.col[r*g.ow*kg:], g.lines() * g.ow * kg
	}
	per := t.chunk * g.ow * g.ktot()
	return t.col[p*per : (p+1)*per], (e - r) * g.ow * kg
}

func (t *convTask) forwardPart(p int) {
	g := &t.g
	if t.wino {
		th, _ := g.winoTiles()
		q0, q1 := p*g.n*th/t.parts, (p+1)*g.n*th/t.parts
		if q0 < q1 {
			g.winoForward(t.col[p*t.region:(p+1)*t.region], t.x, t.u, t.uPacked, t.y, t.res, t.bias, t.tile, t.act, q0, q1, t.lines)
		}
		return
	}
	lines := g.lines()
	r0, r1 := p*lines/t.parts, (p+1)*lines/t.parts
	f, fg, kg := g.f, g.fg(), g.kg()
	if r0 == r1 {
		return
	}
	if t.impl {
		g.implicitForward(t.wide, t.col[p*t.region:(p+1)*t.region], t.x, t.w, t.pw, t.y, t.res, t.bias, t.tile, t.act, r0, r1, t.lines)
		return
	}
	var res []float32
	if g.direct() {
		// In chunks whose input and output stay in cache for the
		// epilogue: one GEMM over a part's lines, then the epilogue,
		// made two trips through memory over the output (a 1x1
		// expansion at 112x112 writes 154 MB at batch 32).
		for r := r0; r < r1; r += t.chunk {
			e := min(r+t.chunk, r1)
			if t.res != nil {
				res = t.res[r*g.ow*f:]
			}
			t.pointwise((e-r)*g.ow, t.x[r*g.ow*g.cin:], t.y[r*g.ow*f:e*g.ow*f], res)
		}
		return
	}
	// Kept patches are written chunk by chunk too, each multiplied while
	// it is in cache.
	for r := r0; r < r1; r += t.chunk {
		e := min(r+t.chunk, r1)
		m := (e - r) * g.ow
		base, gs := t.colAt(p, r, e)
		g.unfold(base, gs, t.x, r, e)
		if g.groups == 1 && !t.wide && kg*f <= directTilesMax && t.bias != nil && t.res == nil {
			// Weights that stay in cache (RGB stems): the all-tiles kernel,
			// the epilogue as biasTiles does it.
			biasTiles(m, f, kg, t.y[r*g.ow*f:e*g.ow*f], base, t.w, t.bias, t.act)
			continue
		}
		switch {
		case t.pw != nil: // one group
			convGemmW(t.wide, m, f, kg, base, kg, t.w, t.pw, 0, 0, t.y[r*g.ow*f:], f)
		default:
			for gi := 0; gi < g.groups; gi++ {
				convGemm(t.wide, false, false, m, fg, kg, base[gi*gs:], kg, t.w[gi*fg:], f, 0, t.y[r*g.ow*f+gi*fg:], f)
			}
		}
		if t.res != nil {
			res = t.res[r*g.ow*f:]
		}
		convEpilogue(t.y[r*g.ow*f:e*g.ow*f], res, t.bias, t.tile, t.act)
	}
}

// pointwise sets out (m pixels) to a 1x1 convolution of x (the same m
// pixels) with t's weights, bias, residual res (nil: none) and
// activation.
func (t *convTask) pointwise(m int, x, out, res []float32) {
	cin, f := t.g.cin, t.g.f
	// One pixel (a squeeze-excite block's 1x1s at batch 1) reads packed
	// weights in order where the kernel has a one-row form.
	onePacked := m == 1 && t.pw != nil && kernels.PackedOneRow()
	if !t.wide && cin*f <= directTilesMax && !onePacked {
		// All tiles in one call, A and B in place (the weights stay in
		// cache): no packing, no call per tile; with a bias and no
		// residual, the epilogue in the tile's registers too.
		if t.bias != nil && res == nil {
			biasTiles(m, f, cin, out, x, t.w, t.bias, t.act)
			return
		}
		kernels.SgemmPlanes(1, m, f, cin, out, 0, x, 0, t.w, 0)
	} else {
		convGemmW(t.wide, m, f, cin, x, cin, t.w, t.pw, 0, 0, out, f)
	}
	convEpilogue(out, res, t.bias, t.tile, t.act)
}

func (t *convTask) forwardOneChan(p int) {
	g := &t.g
	b0, b1 := p*g.n/t.parts, (p+1)*g.n/t.parts
	if b0 == b1 {
		return
	}
	rows, f, in := g.oh*g.ow, g.f, g.h*g.w
	pl := kernels.PaddedLen(g.oh, g.ow, g.kh, g.kw)
	out := t.y[b0*rows*f : b1*rows*f]
	relu := t.act.Kind == "relu" && t.res == nil
	kernels.Conv1Chan(out, t.x[b0*in:b1*in], b1-b0, g.h, g.w, g.padT, g.padL,
		g.oh, g.ow, g.kh, g.kw, t.w, t.bias, f, relu, t.pad[p*pl:(p+1)*pl])
	if !relu && (t.res != nil || t.act.Kind != "") {
		var res []float32
		if t.res != nil {
			res = t.res[b0*rows*f:]
		}
		convEpilogue(out, res, nil, nil, t.act)
	}
}

func (t *convTask) backwardPart(p int) {
	g := &t.g
	b0, b1 := p*g.n/t.parts, (p+1)*g.n/t.parts
	if b0 == b1 {
		return
	}
	f, fg, kg := g.f, g.fg(), g.kg()
	r0, r1 := b0*g.oh, b1*g.oh
	dw, db := t.dw, t.db
	if p > 0 { // private sums, added to the Params after all parts finish
		nw := len(t.w)
		s := t.grads[(p-1)*(nw+f) : p*(nw+f)]
		clear(s)
		if dw != nil {
			dw = s[:nw]
		}
		if db != nil {
			db = s[nw:]
		}
	}
	if db != nil {
		sb := sumBlock(f)
		sumColumns(db, t.dy[r0*g.ow*f:r1*g.ow*f], t.sums[p*sb:(p+1)*sb])
	}
	if t.impl {
		buf := t.col[p*t.region : (p+1)*t.region]
		if dw != nil {
			if t.dwWino {
				th, _ := g.winoTiles()
				na := kernels.WinoPlanes * g.cin * g.f
				g.winoWeightGrad(buf, t.acc[p*na:(p+1)*na], t.x, t.dy, dw, b0*th, b1*th, t.dwLines)
			} else {
				g.implicitWeightGrad(buf, t.x, t.dy, dw, r0, r1, t.lines)
			}
		}
		if t.dx != nil {
			d := &t.dxg
			if t.dxWino {
				th, _ := d.winoTiles()
				d.winoForward(buf, t.dy, t.udx, false, t.dx, nil, nil, nil, Act{}, b0*th, b1*th, t.dxLines)
			} else {
				d.implicitForward(t.wide, buf, t.dy, t.wflip, nil, t.dx, nil, nil, nil, Act{}, b0*d.oh, b1*d.oh, t.dxLines)
			}
		}
		return
	}
	if t.oneChanGrad {
		in, pl := g.h*g.w, kernels.PaddedLen(g.oh, g.ow, g.kh, g.kw)
		if kernels.Conv1ChanGrad(dw, t.x[b0*in:b1*in], t.dy[r0*g.ow*f:r1*g.ow*f], b1-b0, g.h, g.w,
			g.padT, g.padL, g.oh, g.ow, g.kh, g.kw, f, t.pad[p*pl:(p+1)*pl]) {
			return
		}
	}
	if t.dx != nil && !g.direct() && !t.dxConv {
		clear(t.dx[b0*g.inLen() : b1*g.inLen()]) // col2im accumulates
	}
	step := t.chunk
	if g.direct() {
		step = r1 - r0
	}
	for r := r0; r < r1; r += step {
		e := min(r+step, r1)
		m := (e - r) * g.ow
		dy := t.dy[r*g.ow*f:]
		if g.direct() {
			a := t.x[r*g.ow*g.cin:]
			if dw != nil {
				convGemm(t.wide, true, false, g.cin, f, m, a, g.cin, dy, f, 1, dw, f)
			}
			if t.dx != nil {
				convGemm(t.wide, false, true, m, g.cin, f, dy, f, t.w, f, 0, t.dx[r*g.ow*g.cin:], g.cin)
			}
			continue
		}
		base, gs := t.colAt(p, r, e)
		if !t.kept {
			g.unfold(base, gs, t.x, r, e)
		}
		if dw != nil { // dW += patches^T dY
			for gi := 0; gi < g.groups; gi++ {
				convGemm(t.wide, true, false, kg, fg, m, base[gi*gs:], kg, dy[gi*fg:], f, 1, dw[gi*fg:], f)
			}
		}
		if t.dx == nil || t.dxConv {
			continue
		}
		// dPatches = dY W^T, written over the patches (no longer
		// needed), then folded back onto the input gradient.
		for gi := 0; gi < g.groups; gi++ {
			convGemm(t.wide, false, true, m, kg, fg, dy[gi*fg:], f, t.w[gi*fg:], f, 0, base[gi*gs:], kg)
		}
		g.fold(t.dx, base, gs, r, e)
	}
	if t.dx != nil && t.dxConv {
		t.backwardDXConv(p, b0, b1)
	}
}

// backwardDXConv writes the input gradient of images [b0, b1) as a
// convolution of dY (see dxGeom), chunk by chunk in part p's patch buffer.
func (t *convTask) backwardDXConv(p, b0, b1 int) {
	d, g := &t.dxg, &t.g
	var region []float32
	if t.kept { // the part's kept patches, free once dW has them
		region = t.col[b0*g.oh*g.ow*g.ktot() : b1*g.oh*g.ow*g.ktot()]
	} else {
		per := t.chunk * g.ow * g.ktot()
		region = t.col[p*per : (p+1)*per]
	}
	k := d.ktot()
	step := max(1, len(region)/(d.ow*k))
	for r := b0 * d.oh; r < b1*d.oh; r += step {
		e := min(r+step, b1*d.oh)
		d.unfold(region, 0, t.dy, r, e)
		convGemm(t.wide, false, false, (e-r)*d.ow, d.f, k, region, k, t.wflip, d.f, 0, t.dx[r*d.ow*d.f:], d.f)
	}
}

// dxGeom returns the geometry of the input gradient of a stride-1,
// ungrouped convolution as a convolution of its own, when it is one:
//
//	dX[y, x, c] = sum_{ky, kx, f} dY[y + padT - ky*dh, x + padL - kx*dw, f] * W[ky, kx, c, f]
//
// is dY, padded by (KH-1)*dh - padT above (and so on), convolved with W
// flipped in both spatial axes and transposed to (KH, KW, F, Cin). Its
// GEMM multiplies patches by a kernel of depth KH*KW*F, where col2im's
// GEMM had depth F (16 in ResNet-20's first stage: a tenth of the micro-
// kernel's speed), and it writes dX once instead of scattering KH*KW adds.
func (g *convGeo) dxGeom() (convGeo, bool) {
	pt, pl := (g.kh-1)*g.dh-g.padT, (g.kw-1)*g.dw-g.padL
	if g.sh != 1 || g.sw != 1 || g.groups != 1 || g.direct() || pt < 0 || pl < 0 || g.cin < 8 {
		return convGeo{}, false
	}
	return convGeo{n: g.n, h: g.oh, w: g.ow, cin: g.f, oh: g.h, ow: g.w, f: g.cin,
		kh: g.kh, kw: g.kw, sh: 1, sw: 1, dh: g.dh, dw: g.dw, padT: pt, padL: pl, groups: 1}, true
}

// directLines is how many output lines a 1x1 convolution's forward
// multiplies at a time: input and output a quarter of chunkColFloats (or
// the test override), so that both are still cached for the epilogue.
func (g *convGeo) directLines(limit int) int {
	if limit <= 0 {
		limit = chunkColFloats
	}
	return max(1, limit/4/max(1, g.ow*(g.f+g.cin)))
}

// dxConvPays reports whether dX as a convolution (dxGeom) costs less
// than col2im of dY W^T on the im2col path. The two GEMMs do the same
// multiply-adds in different shapes: m x KH*KW*Cin of depth F against
// m x Cin of depth KH*KW*F. What differs is the micro-kernel's waste:
// columns rounded up to its tile width (LeNet's second convolution has
// Cin 20: 32 columns paid for 20, against 512 for 500) and a fixed cost
// per register tile that a shallow depth does not amortise (ResNet's
// first stage has F 16). The patches each path moves (col2im's fold of
// KH*KW*Cin per row, dxConv's unfold of KH*KW*F) count at about
// 8 multiply-adds an element, the ratio of one AVX add over memory to
// the FMA throughput of a register tile.
func (g *convGeo) dxConvPays() bool {
	const tileCost, moveCost = 24, 8
	_, nr := kernels.Tile()
	cols := func(n int) int { return (n + nr - 1) / nr * nr }
	taps := g.kh * g.kw
	col2im := cols(taps*g.cin)*(g.f+tileCost) + moveCost*taps*g.cin
	conv := cols(g.cin)*(taps*g.f+tileCost) + moveCost*taps*g.f
	return conv < col2im
}

// flipKernel writes w (KH, KW, Cin, F) flipped in both spatial axes and
// transposed: dst (KH, KW, F, Cin).
func flipKernel(dst, w []float32, g *convGeo) {
	for ky := range g.kh {
		for kx := range g.kw {
			src := w[((g.kh-1-ky)*g.kw+(g.kw-1-kx))*g.cin*g.f:]
			out := dst[(ky*g.kw+kx)*g.f*g.cin:]
			for c := range g.cin {
				for f := range g.f {
					out[f*g.cin+c] = src[c*g.f+f]
				}
			}
		}
	}
}

// Forward computes the convolution, its bias, residual and activation.
func (c *Conv2D) Forward(call *Call, in, out []*tensor.Tensor) error {
	if len(in) < 1 || len(out) != 1 {
		return fmt.Errorf("Conv2D: %d inputs and %d outputs", len(in), len(out))
	}
	g, err := c.geometry(in[0].Shape, out[0].Shape)
	if err != nil {
		return err
	}
	var res []float32
	if c.Residual {
		if len(in) != 2 || !tensor.EqualShape(in[1].Shape, out[0].Shape) {
			return fmt.Errorf("Conv2D: residual input missing or not of the output's shape %s", shapeText(out[0].Shape))
		}
		res = in[1].Data
	}
	st := stateOf[convState](call)
	st.kept = false
	x, y, w := in[0].Data, out[0].Data, c.kernel.Value.Data
	var bias []float32
	if c.bias != nil {
		bias = c.bias.Value.Data
	}
	if len(x) == 0 || len(y) == 0 {
		return nil
	}
	if g.depthwise() {
		st.dw.forward(&g, x, y, res, w, bias, c.Act)
		return nil
	}
	var fw *convFrozen
	if g.groups == 1 {
		fw = frozenConv(call.frozen, c.kernel)
	}
	if m := g.groupMerge(); m > 1 {
		st.wexp = grow(st.wexp, len(w)*m)
		expandGroups(st.wexp, w, &g, m)
		w = st.wexp
		g.groups /= m
	}
	t := &st.task
	*t = convTask{g: g, x: x, y: y, res: res, w: w, bias: bias, tile: biasTile(&st.tile, bias), act: c.Act}
	// One input channel, stride 1: a direct kernel instead of im2col and
	// a skinny GEMM (Backward unfolds the patches for dW).
	if g.cin == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && kernels.Conv1ChanSupported(g.f, g.ow) {
		t.mode = convForwardOneChan
		t.parts = convParts(g.n, g.flopsPerLine()*g.oh)
		st.pad = grow(st.pad, t.parts*kernels.PaddedLen(g.oh, g.ow, g.kh, g.kw))
		t.pad = st.pad
		if bias == nil {
			st.zero = grow(st.zero, g.f)
			clear(st.zero)
			t.bias = st.zero
		}
	} else if g.winogradFor(fw != nil) {
		t.mode, t.wino = convForward, true
		th, _ := g.winoTiles()
		t.parts = convParts(g.n*th, 2*g.flopsPerLine())
		t.lines = g.winoRows(c.chunkFloats)
		t.region = g.winoBuf(t.lines)
		if fw != nil {
			t.u, t.uPacked = fw.winoKernel(&g, w)
		} else {
			st.wino = g.winoWeights(st.wino, w)
			t.u = st.wino
		}
		st.col = grow(st.col, t.parts*t.region)
		t.col = st.col
	} else if g.implicit() && (fw == nil || g.ow >= implicitMinWidthPacked) {
		t.mode, t.impl = convForward, true
		t.pw = fw.packedKernel(&g, w)
		t.parts, t.wide = g.forwardParts()
		t.lines = g.implicitLines(c.chunkFloats)
		t.region = g.implicitBuf(t.lines)
		st.col = grow(st.col, t.parts*t.region)
		t.col = st.col
	} else {
		t.mode = convForward
		t.pw = fw.packedKernel(&g, w)
		t.parts, t.wide = g.forwardParts()
		t.chunk = g.chunkLines(c.chunkFloats)
		if g.direct() {
			t.chunk = g.directLines(c.chunkFloats)
		}
		keep := c.keepFloats
		if keep == 0 {
			keep = keepColFloats
		}
		n := g.lines() * g.ow * g.ktot()
		t.kept = !g.direct() && call.Train && n <= keep
		if !t.kept {
			n = t.parts * t.chunk * g.ow * g.ktot()
		}
		if !g.direct() {
			st.col = grow(st.col, n)
			t.col = st.col
		}
	}
	kernels.Parallel(t.parts, 1, t)
	if t.kept {
		st.kept, st.keptX, st.keptLen = true, &x[0], len(x)
	}
	*t = convTask{}
	return nil
}

// Backward takes dL/dy: with g = dy * act'(y), it adds dW = patches^T g
// and db = column sums of g to the Params that have a gradient, and
// writes dx = col2im(g W^T) and, with Residual, d(residual) = g.
func (c *Conv2D) Backward(call *Call, in, out, dout, din []*tensor.Tensor) error {
	if len(in) < 1 || in[0] == nil || len(dout) != 1 {
		return fmt.Errorf("Conv2D: Backward needs the input and one output gradient")
	}
	if dout[0] == nil { // zero gradient
		for _, d := range din {
			if d != nil {
				clear(d.Data)
			}
		}
		return nil
	}
	g, err := c.geometry(in[0].Shape, dout[0].Shape)
	if err != nil {
		return err
	}
	if err := convCheckAct("Conv2D", c.Act); err != nil {
		return err
	}
	st := stateOf[convState](call)
	dy := dout[0].Data
	if c.Act.Kind != "" {
		if len(out) < 1 || out[0] == nil {
			return fmt.Errorf("Conv2D: Backward with a fused activation needs the output")
		}
		gb := call.Scratch(len(dy))
		convActGrad(&st.act, c.Act, gb, dy, out[0].Data)
		dy = gb
	}
	if c.Residual && len(din) > 1 && din[1] != nil {
		copy(din[1].Data, dy)
	}
	x, w := in[0].Data, c.kernel.Value.Data
	var dx, dW, dB []float32
	if len(din) > 0 && din[0] != nil {
		dx = din[0].Data
	}
	if c.kernel.Grad != nil {
		dW = c.kernel.Grad.Data
	}
	if c.bias != nil && c.bias.Grad != nil {
		dB = c.bias.Grad.Data
	}
	kept := st.kept && len(x) > 0 && st.keptX == &x[0] && st.keptLen == len(x)
	st.kept = false // dPatches overwrite the patches
	if len(x) == 0 || len(dy) == 0 || (dx == nil && dW == nil && dB == nil) {
		return nil
	}
	if g.depthwise() {
		st.dw.backward(&g, x, dy, dx, w, dW, dB)
		return nil
	}
	orig, m := g, g.groupMerge()
	if m > 1 { // as Forward, with dW through the merged kernel
		st.wexp = grow(st.wexp, len(w)*m)
		expandGroups(st.wexp, w, &g, m)
		w = st.wexp
		g.groups /= m
		if dW != nil {
			st.dwexp = grow(st.dwexp, len(w))
			clear(st.dwexp)
			dW = st.dwexp
		}
	}
	t := &st.task
	*t = convTask{g: g, mode: convBackward, x: x, dy: dy, dx: dx, w: w, dw: dW, db: dB, kept: kept && !g.direct()}
	t.parts = convParts(g.n, 2*g.flopsPerLine()*g.oh)
	t.wide = t.parts < kernels.Threads()
	t.chunk = g.chunkLines(c.chunkFloats)
	if t.kept {
		t.col = st.col
	} else if !g.direct() {
		st.col = grow(st.col, t.parts*t.chunk*g.ow*g.ktot())
		t.col = st.col
	}
	if g.implicit() && m == 1 {
		t.impl, t.kept = true, false
		t.lines = g.implicitLines(c.chunkFloats)
		t.region = g.implicitBuf(t.lines)
		if dW != nil && g.winograd() {
			t.dwWino = true
			t.dwLines = g.winoRows(c.chunkFloats)
			t.region = max(t.region, g.winoBuf(t.dwLines))
			st.winoAcc = grow(st.winoAcc, t.parts*kernels.WinoPlanes*g.cin*g.f)
			t.acc = st.winoAcc
		}
		if dx != nil {
			d, ok := g.dxGeom()
			switch {
			case ok && d.winograd():
				t.dxWino = true
				t.dxLines = d.winoRows(c.chunkFloats)
				t.region = max(t.region, d.winoBuf(t.dxLines))
			case ok && d.implicit():
				t.dxLines = d.implicitLines(c.chunkFloats)
				t.region = max(t.region, d.implicitBuf(t.dxLines))
			default:
				t.impl = false // dX needs patches: the im2col path does all
			}
		}
		if t.impl {
			st.col = grow(st.col, t.parts*t.region)
			t.col = st.col
		}
	}
	if dx != nil {
		// The implicit path needs dX as a convolution; im2col takes it
		// where it costs less than col2im.
		t.dxg, t.dxConv = g.dxGeom()
		t.dxConv = t.dxConv && (t.impl || g.dxConvPays())
		if t.dxConv {
			st.wflip = grow(st.wflip, len(w))
			flipKernel(st.wflip, w, &g)
			t.wflip = st.wflip
			if !t.kept && g.direct() {
				t.dxConv = false
			}
			if t.impl && t.dxWino {
				st.winoDX = t.dxg.winoWeights(st.winoDX, st.wflip)
				t.udx = st.winoDX
			}
		}
	}
	if g.cin == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && dx == nil && dW != nil {
		t.oneChanGrad = true
		st.pad = grow(st.pad, t.parts*kernels.PaddedLen(g.oh, g.ow, g.kh, g.kw))
		t.pad = st.pad
	}
	if t.parts > 1 {
		st.grads = grow(st.grads, (t.parts-1)*(len(w)+g.f))
		t.grads = st.grads
	}
	st.sums = grow(st.sums, t.parts*sumBlock(g.f))
	t.sums = st.sums
	kernels.Parallel(t.parts, 1, t)
	for p := 1; p < t.parts; p++ {
		s := t.grads[(p-1)*(len(w)+g.f) : p*(len(w)+g.f)]
		if dW != nil {
			kernels.Add(dW, s[:len(w)])
		}
		if dB != nil {
			kernels.Add(dB, s[len(w):])
		}
	}
	if m > 1 && dW != nil {
		gatherGroups(c.kernel.Grad.Data, dW, &orig, m)
	}
	*t = convTask{}
	return nil
}
