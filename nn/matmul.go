package nn

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
	"github.com/dlcv-go/dlcv/tensor"
)

// MatMul is NumPy's matmul of two inputs (ONNX MatMul, torch.matmul): the
// last two axes of each are matrices, multiplied as op(A) op(B) with op the
// transpose where TransA or TransB is set, and the leading axes are batch
// axes that broadcast against each other. A 1-D input is a vector: A of
// shape (k) is a (1, k) row and B of shape (k) a (k, 1) column, and that
// axis is dropped from the result (TransA and TransB do not apply to
// vectors). Typical uses: attention scores (batch, heads, T, d) x (batch,
// heads, d, T) with TransB, and a token-wise projection (batch, T, d) x
// a constant (d, e).
type MatMul struct {
	noParams
	TransA bool `json:"trans_a,omitempty"`
	TransB bool `json:"trans_b,omitempty"`
}

// NewMatMul returns a MatMul without transposes.
func NewMatMul() *MatMul { return &MatMul{} }

func init() {
	mustRegister(func() Op { return NewMatMul() }, func() Op { return NewGemm() })
}

// Kind is "MatMul".
func (o *MatMul) Kind() string { return "MatMul" }

// Saves: both inputs (each one's gradient is the other times dY).
func (o *MatMul) Saves() (inputs, outputs bool) { return true, false }

// Shapes gives the broadcast batch axes followed by (m, n), without the
// axes of 1-D inputs.
func (o *MatMul) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("takes 2 inputs, got %d", len(in))
	}
	g, err := matmulGeometry(in[0], in[1], o.TransA, o.TransB)
	if err != nil {
		return nil, err
	}
	return [][]int{g.out}, nil
}

// mmGeom is how a MatMul maps onto SGEMM calls for given input shapes.
type mmGeom struct {
	a, b, out  []int
	m, n, k    int
	aVec, bVec bool
	transA     bool // after 1-D promotion (a vector is never transposed)
	transB     bool
	lda, ldb   int
	items      int   // matrix products (the output batch size)
	ia, ib     []int // per product: the index of the A and B matrix
	idx        []int // scratch: a batch index
	na, nb     int   // A and B matrices
	// merged: B is one matrix shared by every product and A is not
	// transposed, so all products are one SGEMM with items*m rows.
	merged bool
}

// matmulGeometry checks the shapes (-1 for unknown) and works out the
// products.
func matmulGeometry(a, b []int, transA, transB bool) (*mmGeom, error) {
	g := &mmGeom{}
	if err := g.set(a, b, transA, transB); err != nil {
		return nil, err
	}
	return g, nil
}

// set fills g for the shapes, reusing its slices. ia and ib are filled
// only when every dimension is known.
func (g *mmGeom) set(a, b []int, transA, transB bool) error {
	if len(a) == 0 || len(b) == 0 {
		return fmt.Errorf("MatMul: inputs %s and %s; scalars cannot be multiplied", shapeText(a), shapeText(b))
	}
	if len(a) == 1 && len(b) == 1 {
		return fmt.Errorf("MatMul: inputs %s and %s are both vectors; the result would be a scalar", shapeText(a), shapeText(b))
	}
	*g = mmGeom{a: append(g.a[:0], a...), b: append(g.b[:0], b...), out: g.out[:0], ia: g.ia[:0], ib: g.ib[:0], idx: g.idx[:0]}
	var ma, ka, kb, nb int
	var batchA, batchB []int
	if len(a) == 1 {
		g.aVec, ma, ka = true, 1, a[0]
	} else {
		batchA = a[:len(a)-2]
		ma, ka = a[len(a)-2], a[len(a)-1]
		if transA {
			ma, ka = ka, ma
			g.transA = true
		}
	}
	if len(b) == 1 {
		g.bVec, kb, nb = true, b[0], 1
	} else {
		batchB = b[:len(b)-2]
		kb, nb = b[len(b)-2], b[len(b)-1]
		if transB {
			kb, nb = nb, kb
			g.transB = true
		}
	}
	if ka != kb && ka != -1 && kb != -1 {
		return fmt.Errorf("MatMul: inputs %s and %s (trans_a %v, trans_b %v): inner dimensions %d and %d differ",
			shapeText(a), shapeText(b), transA, transB, ka, kb)
	}
	// The broadcast batch axes (BroadcastShapes, without allocating).
	r := max(len(batchA), len(batchB))
	for i := range r {
		da, db := 1, 1
		if j := len(batchA) - r + i; j >= 0 {
			da = batchA[j]
		}
		if j := len(batchB) - r + i; j >= 0 {
			db = batchB[j]
		}
		d := da
		switch {
		case da == db, db == 1:
		case da == 1, da == -1:
			d = db
		case db == -1:
		default:
			return fmt.Errorf("MatMul: batch axes of %s and %s do not broadcast (axis %d: %d vs %d)", shapeText(a), shapeText(b), i, da, db)
		}
		g.out = append(g.out, d)
	}
	batch := g.out[:r]
	if !g.aVec {
		g.out = append(g.out, ma)
	}
	if !g.bVec {
		g.out = append(g.out, nb)
	}
	g.m, g.n, g.k = ma, nb, max(ka, kb)
	for _, s := range [][]int{a, b} {
		for _, d := range s {
			if d < 0 {
				return nil
			}
		}
	}
	g.lda, g.ldb = g.k, g.n
	if g.transA {
		g.lda = g.m
	}
	if g.transB {
		g.ldb = g.k
	}
	g.items, g.na, g.nb = tensor.Numel(batch), tensor.Numel(batchA), tensor.Numel(batchB)
	for range g.items {
		g.ia, g.ib = append(g.ia, 0), append(g.ib, 0)
	}
	// Walk the output batch index, adding each input's stride along the
	// axes it spans (a size-1 axis broadcasts: stride 0).
	for range r {
		g.idx = append(g.idx, 0)
	}
	idx := g.idx
	for o := range g.items {
		if o > 0 {
			for i := r - 1; i >= 0; i-- {
				if idx[i]++; idx[i] < batch[i] {
					break
				}
				idx[i] = 0
			}
		}
		g.ia[o] = batchOffset(idx, batchA)
		g.ib[o] = batchOffset(idx, batchB)
	}
	g.merged = g.nb == 1 && g.na == g.items && !g.transA
	return nil
}

// batchOffset is the index of the matrix of an input with batch axes s at
// the output batch index idx (s aligned to the end of idx).
func batchOffset(idx, s []int) int {
	off := 0
	for i, d := range s {
		off *= d
		if d != 1 {
			off += idx[len(idx)-len(s)+i]
		}
	}
	return off
}

// mmState keeps the geometry for the last shapes and the task that splits
// many small products over the cores.
type mmState struct {
	geom mmGeom
	task mmTask
}

func (st *mmState) plan(a, b []int, transA, transB bool) (*mmGeom, error) {
	g := &st.geom
	if g.items > 0 && tensor.EqualShape(g.a, a) && tensor.EqualShape(g.b, b) && g.transA == (transA && len(a) > 1) && g.transB == (transB && len(b) > 1) {
		return g, nil
	}
	if err := g.set(a, b, transA, transB); err != nil {
		return nil, err
	}
	return g, nil
}

// mmSmall is the work (m*n*k) under which a product is run whole on one
// core, and products are spread over the cores instead.
const mmSmall = 1 << 16

// mmTask runs products [lo, hi) with the serial SGEMM.
type mmTask struct {
	g          *mmGeom
	mode       int // mmForward, mmGradA, mmGradB
	alpha      float32
	a, b, c, d []float32 // A, B, dC or C, and the output
}

const (
	mmForward = iota
	mmGradA
	mmGradB
)

// Run implements kernels.Task.
func (t *mmTask) Run(lo, hi int) {
	for o := lo; o < hi; o++ {
		t.one(o, kernels.SgemmSerial)
	}
}

type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// one runs product o. In the gradient modes it adds into its target
// (beta 1) unless the target is used by this product only.
func (t *mmTask) one(o int, sgemm sgemmFunc) {
	g := t.g
	m, n, k := g.m, g.n, g.k
	A := t.a[g.ia[o]*m*k:]
	B := t.b[g.ib[o]*k*n:]
	switch t.mode {
	case mmForward:
		sgemm(g.transA, g.transB, m, n, k, t.alpha, A, g.lda, B, g.ldb, 0, t.d[o*m*n:], n)
	case mmGradA:
		dC, dA := t.c[o*m*n:], t.d[g.ia[o]*m*k:]
		beta := float32(1)
		if g.na == g.items {
			beta = 0
		}
		if !g.transA {
			sgemm(false, !g.transB, m, k, n, t.alpha, dC, n, B, g.ldb, beta, dA, k)
		} else {
			sgemm(g.transB, true, k, m, n, t.alpha, B, g.ldb, dC, n, beta, dA, m)
		}
	case mmGradB:
		dC, dB := t.c[o*m*n:], t.d[g.ib[o]*k*n:]
		beta := float32(1)
		if g.nb == g.items {
			beta = 0
		}
		if !g.transB {
			sgemm(!g.transA, false, k, n, m, t.alpha, A, g.lda, dC, n, beta, dB, n)
		} else {
			sgemm(true, g.transA, n, k, m, t.alpha, dC, n, A, g.lda, beta, dB, k)
		}
	}
}

// run runs every product of a mode: spread over the cores when the
// products are small and write separate targets, else one after another
// with the parallel SGEMM. A target shared by several products is cleared
// first and added into.
func (t *mmTask) run(mode int) {
	g := t.g
	t.mode = mode
	unique := mode == mmForward || (mode == mmGradA && g.na == g.items) || (mode == mmGradB && g.nb == g.items)
	if !unique {
		clear(t.d)
	}
	if unique && g.items > 1 && g.m*g.n*g.k < mmSmall {
		kernels.Parallel(g.items, max(1, mmSmall/max(1, g.m*g.n*g.k)), t)
		return
	}
	for o := range g.items {
		t.one(o, kernels.Sgemm)
	}
}

// Forward computes every product with SGEMM.
func (o *MatMul) Forward(c *Call, in, out []*tensor.Tensor) error {
	st := stateOf[mmState](c)
	g, err := st.plan(in[0].Shape, in[1].Shape, o.TransA, o.TransB)
	if err != nil {
		return err
	}
	a, b, y := in[0].Data, in[1].Data, out[0].Data
	if g.merged {
		kernels.Sgemm(false, g.transB, g.items*g.m, g.n, g.k, 1, a, g.k, b, g.ldb, 0, y, g.n)
		return nil
	}
	st.task = mmTask{g: g, alpha: 1, a: a, b: b, d: y}
	st.task.run(mmForward)
	st.task = mmTask{}
	return nil
}

// Backward: dA = dC op(B)^T and dB = op(A)^T dC per product (transposed
// back where the input is stored transposed), summed over the products
// that share an input through broadcasting.
func (o *MatMul) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	st := stateOf[mmState](c)
	g, err := st.plan(in[0].Shape, in[1].Shape, o.TransA, o.TransB)
	if err != nil {
		return err
	}
	return matmulGrads(st, g, 1, in[0].Data, in[1].Data, dout[0].Data, din[0], din[1])
}

// matmulGrads writes alpha times the gradients of op(A) op(B) into dA and
// dB (either may be nil).
func matmulGrads(st *mmState, g *mmGeom, alpha float32, a, b, dc []float32, dA, dB *tensor.Tensor) error {
	if g.merged {
		rows := g.items * g.m
		if dA != nil {
			kernels.Sgemm(false, !g.transB, rows, g.k, g.n, alpha, dc, g.n, b, g.ldb, 0, dA.Data, g.k)
		}
		if dB != nil {
			if !g.transB {
				kernels.Sgemm(true, false, g.k, g.n, rows, alpha, a, g.k, dc, g.n, 0, dB.Data, g.n)
			} else {
				kernels.Sgemm(true, false, g.n, g.k, rows, alpha, dc, g.n, a, g.k, 0, dB.Data, g.k)
			}
		}
		return nil
	}
	st.task = mmTask{g: g, alpha: alpha, a: a, b: b, c: dc}
	if dA != nil {
		st.task.d = dA.Data
		st.task.run(mmGradA)
	}
	if dB != nil {
		st.task.d = dB.Data
		st.task.run(mmGradB)
	}
	st.task = mmTask{}
	return nil
}

// Gemm is ONNX's Gemm: Y = Alpha * op(A) op(B) + Beta * C for matrices A
// (m, k), or (k, m) with TransA, and B (k, n), or (n, k) with TransB, and an
// optional third input C that broadcasts to (m, n): a scalar, (n), (1, n),
// (m, 1) or (m, n). The first axis of A is usually the batch.
type Gemm struct {
	noParams
	Alpha  float32 `json:"alpha"`
	Beta   float32 `json:"beta"`
	TransA bool    `json:"trans_a,omitempty"`
	TransB bool    `json:"trans_b,omitempty"`
}

// NewGemm returns a Gemm with ONNX's defaults: Alpha 1, Beta 1, no
// transposes.
func NewGemm() *Gemm { return &Gemm{Alpha: 1, Beta: 1} }

// Kind is "Gemm".
func (o *Gemm) Kind() string { return "Gemm" }

// Saves: the inputs.
func (o *Gemm) Saves() (inputs, outputs bool) { return true, false }

// Shapes checks that A and B are matrices that fit and that C broadcasts
// to the result (m, n).
func (o *Gemm) Shapes(in [][]int) ([][]int, error) {
	if len(in) != 2 && len(in) != 3 {
		return nil, fmt.Errorf("takes 2 or 3 inputs (A, B, optional C), got %d", len(in))
	}
	if len(in[0]) != 2 || len(in[1]) != 2 {
		return nil, fmt.Errorf("Gemm: inputs %s and %s; both must be matrices", shapeText(in[0]), shapeText(in[1]))
	}
	g, err := matmulGeometry(in[0], in[1], o.TransA, o.TransB)
	if err != nil {
		return nil, fmt.Errorf("Gemm: %w", err)
	}
	if len(in) == 3 {
		if _, _, err := gemmBias(in[2], g.m, g.n); err != nil {
			return nil, err
		}
	}
	return [][]int{g.out}, nil
}

// gemmBias checks that C broadcasts to (m, n) and returns its row and
// column strides over the result (0 along a broadcast axis).
func gemmBias(s []int, m, n int) (rs, cs int, err error) {
	fail := func() (int, int, error) {
		return 0, 0, fmt.Errorf("Gemm: C of shape %s does not broadcast to the result (%s, %s)", shapeText(s), dimText(m), dimText(n))
	}
	if len(s) > 2 {
		return fail()
	}
	cm, cn := 1, 1
	if len(s) >= 1 {
		cn = s[len(s)-1]
	}
	if len(s) == 2 {
		cm = s[0]
	}
	fits := func(c, d int) bool { return c == 1 || c == d || c == -1 || d == -1 }
	if !fits(cm, m) || !fits(cn, n) {
		return fail()
	}
	if cn != 1 {
		cs = 1
	}
	if cm != 1 {
		rs = cn
	}
	return rs, cs, nil
}

func dimText(d int) string {
	if d < 0 {
		return "?"
	}
	return fmt.Sprint(d)
}

// Forward fills Y with Beta*C and adds Alpha*op(A)op(B) with one SGEMM.
func (o *Gemm) Forward(c *Call, in, out []*tensor.Tensor) error {
	st := stateOf[mmState](c)
	g, err := st.plan(in[0].Shape, in[1].Shape, o.TransA, o.TransB)
	if err != nil {
		return err
	}
	y := out[0].Data
	beta := float32(0)
	if len(in) == 3 && o.Beta != 0 {
		rs, cs, err := gemmBias(in[2].Shape, g.m, g.n)
		if err != nil {
			return err
		}
		cv := in[2].Data
		for i := range g.m {
			row := y[i*g.n : (i+1)*g.n]
			for j := range row {
				row[j] = o.Beta * cv[i*rs+j*cs]
			}
		}
		beta = 1
	}
	kernels.Sgemm(g.transA, g.transB, g.m, g.n, g.k, o.Alpha, in[0].Data, g.lda, in[1].Data, g.ldb, beta, y, g.n)
	return nil
}

// Backward: dA and dB as for MatMul, times Alpha; dC = Beta * dY summed
// over the axes C is broadcast along.
func (o *Gemm) Backward(c *Call, in, out, dout, din []*tensor.Tensor) error {
	st := stateOf[mmState](c)
	g, err := st.plan(in[0].Shape, in[1].Shape, o.TransA, o.TransB)
	if err != nil {
		return err
	}
	dy := dout[0].Data
	if err := matmulGrads(st, g, o.Alpha, in[0].Data, in[1].Data, dy, din[0], din[1]); err != nil {
		return err
	}
	if len(din) == 3 && din[2] != nil {
		rs, cs, err := gemmBias(din[2].Shape, g.m, g.n)
		if err != nil {
			return err
		}
		dc := din[2].Data
		clear(dc)
		for i := range g.m {
			row := dy[i*g.n : (i+1)*g.n]
			if cs == 1 {
				d := dc[i*rs : i*rs+g.n]
				for j, v := range row {
					d[j] += o.Beta * v
				}
				continue
			}
			var s float32
			for _, v := range row {
				s += v
			}
			dc[i*rs] += o.Beta * s
		}
	}
	return nil
}
