package kernels

import "math"

// The integer GEMM of quantized models: unsigned 8-bit activations times
// signed 8-bit weights, summed exactly in int32, as TFLite's integer
// kernels do. The weights are packed once for the dot-product instruction
// of AVX-512 VNNI (vpdpbusd multiplies four unsigned bytes by four signed
// bytes and adds the four products to an int32 lane): panels of QPanel
// columns, each holding the depth in quads, a quad of a column being four
// consecutive bytes.

// QPanel is the number of columns in a panel of PackedQ; GemmQ writes
// whole panels, so its output rows are at least b.Cols() long.
const QPanel = 32

// qRows is the number of rows one call of the assembly kernel computes
// (12 rows x 2 vectors of 16 int32: 24 of the 32 vector registers).
const qRows = 12

// PackedQ is a K x N int8 matrix packed for GemmQ.
type PackedQ struct {
	K, N   int
	quads  int    // ceil(K/4)
	panels int    // ceil(N/QPanel)
	data   []byte // panel p, quad q, column j, byte i at ((p*quads+q)*QPanel+j)*4+i
}

// PackQ packs b, K x N row-major with row stride ldb. Depth and columns
// beyond K and N are zero, so they add nothing.
func PackQ(k, n int, b []int8, ldb int) *PackedQ {
	p := &PackedQ{K: k, N: n, quads: (k + 3) / 4, panels: (n + QPanel - 1) / QPanel}
	p.data = make([]byte, p.panels*p.quads*QPanel*4)
	if k > 0 && n > 0 {
		_ = b[(k-1)*ldb+n-1]
	}
	for kk := 0; kk < k; kk++ {
		q, i := kk/4, kk%4
		row := b[kk*ldb : kk*ldb+n]
		for j, v := range row {
			pp, jj := j/QPanel, j%QPanel
			p.data[((pp*p.quads+q)*QPanel+jj)*4+i] = byte(v)
		}
	}
	return p
}

// Cols is N rounded up to whole panels: the width GemmQ writes.
func (p *PackedQ) Cols() int { return p.panels * QPanel }

// Panels returns the view of b's panels [p0, p1): columns p0*QPanel up
// to p1*QPanel (or N), for splitting a product's columns over cores.
func (p *PackedQ) Panels(p0, p1 int) PackedQ {
	per := p.quads * QPanel * 4
	return PackedQ{K: p.K, N: min(p.N, p1*QPanel) - p0*QPanel, quads: p.quads, panels: p1 - p0, data: p.data[p0*per : p1*per]}
}

// NumPanels is the number of column panels.
func (p *PackedQ) NumPanels() int { return p.panels }

// QScratch is the scratch GemmQ needs for rows it cannot read in place
// (the last rows of a when K is not a multiple of 4); callers keep one
// per worker to avoid allocating per call.
type QScratch struct {
	buf []byte
	c   []int32
}

// GemmQ sets c[i*ldc+j] = sum_k int32(a[i*lda+k]) * int32(b[k][j]) for
// i < m and j < b.Cols() (columns past N are zero). ldc >= b.Cols(),
// lda >= K. s may be nil.
func GemmQ(m int, a []byte, lda int, b *PackedQ, c []int32, ldc int, s *QScratch) {
	if m <= 0 {
		return
	}
	k := b.K
	if lda < k || ldc < b.Cols() {
		panic("kernels: GemmQ strides too small")
	}
	_ = a[(m-1)*lda+k-1]
	_ = c[(m-1)*ldc+b.Cols()-1]
	// The kernels read whole quads: row i's reads end at i*lda + 4*quads.
	// Rows whose reads stay inside a go in place, the others (the last
	// one or few when K is not a multiple of 4) through a zeroed copy.
	kb := 4 * b.quads
	safe := safeRows(m, lda, kb, len(a))
	gemmQRows(safe, a, lda, b, c, ldc)
	if safe == m {
		return
	}
	if s == nil {
		s = &QScratch{}
	}
	buf := s.rows(a, lda, k, kb, safe, m)
	gemmQRows(m-safe, buf, kb, b, c[safe*ldc:], ldc)
}

// safeRows is how many of the first rows of a (stride lda, len n) can be
// read kb bytes each.
func safeRows(m, lda, kb, n int) int {
	safe := m
	for safe > 0 && (safe-1)*lda+kb > n {
		safe--
	}
	return safe
}

// rows copies rows [r0, r1) of a (k bytes each) into zeroed rows of kb.
func (s *QScratch) rows(a []byte, lda, k, kb, r0, r1 int) []byte {
	need := (r1 - r0) * kb
	if cap(s.buf) < need {
		s.buf = make([]byte, need)
	}
	buf := s.buf[:need]
	clear(buf)
	for i := r0; i < r1; i++ {
		copy(buf[(i-r0)*kb:(i-r0)*kb+k], a[i*lda:i*lda+k])
	}
	return buf
}

// gemmQRowsGo is gemmQRows in Go: every row can be read in whole quads.
func gemmQRowsGo(m int, a []byte, lda int, b *PackedQ, c []int32, ldc int) {
	for r := 0; r < m; r += qRows {
		for p := 0; p < b.panels; p++ {
			gemmQTileGo(min(qRows, m-r), c[r*ldc+p*QPanel:], a[r*lda:], lda, b, p, ldc)
		}
	}
}

// gemmQTileGo computes rows x QPanel outputs (rows <= qRows) of panel p
// (c row stride ldc) from rows of a that can be read in whole quads: the
// portable twin of the assembly kernels.
func gemmQTileGo(rows int, c []int32, a []byte, lda int, b *PackedQ, p, ldc int) {
	var acc [qRows][QPanel]int32
	pd := b.data[p*b.quads*QPanel*4 : (p+1)*b.quads*QPanel*4]
	for q := 0; q < b.quads; q++ {
		bq := pd[q*QPanel*4 : (q+1)*QPanel*4]
		for i := 0; i < rows; i++ {
			av := a[i*lda+4*q : i*lda+4*q+4]
			a0, a1, a2, a3 := int32(av[0]), int32(av[1]), int32(av[2]), int32(av[3])
			r := &acc[i]
			for j := 0; j < QPanel; j++ {
				w := bq[4*j : 4*j+4]
				r[j] += a0*int32(int8(w[0])) + a1*int32(int8(w[1])) + a2*int32(int8(w[2])) + a3*int32(int8(w[3]))
			}
		}
	}
	for i := 0; i < rows; i++ {
		copy(c[i*ldc:i*ldc+QPanel], acc[i][:])
	}
}

// RowSumsU8 sets sums[i] to the sum of a[i*lda : i*lda+k] for i < m: the
// correction a zero point needs (sum (x - zx)(w + d) = sum x*w + d*sum x
// - zx*sum (w + d)).
func RowSumsU8(sums []int32, a []byte, lda, k, m int) {
	if rowSumsU8Arch(sums, a, lda, k, m) {
		return
	}
	for i := 0; i < m; i++ {
		var s int32
		for _, v := range a[i*lda : i*lda+k] {
			s += int32(v)
		}
		sums[i] = s
	}
}

// QRequant holds the per-column constants that turn GemmQ's sums into
// quantized outputs: out = clamp(roundeven(float32(acc + Bias[j] +
// add) * Scale[j]), Lo, Hi) relative to the output's zero point, where
// add is the row's zero-point correction. Clamping before rounding, in
// float32, is XNNPACK's fp32 requantization (TFLite's default CPU
// delegate); it also keeps a product beyond int32 from wrapping.
type QRequant struct {
	Bias   []int32
	Scale  []float32
	Lo, Hi float32 // output range minus the zero point
	ZP     int32   // the output's zero point as stored in bytes
}

// RowU8 requantizes one row of n accumulators into bytes (value + ZP).
func (r *QRequant) RowU8(dst []byte, acc []int32, add int32) {
	n := len(dst)
	acc, bias, scale := acc[:n], r.Bias[:n], r.Scale[:n]
	i := requantRowU8Arch(dst, acc, bias, scale, add, r.Lo, r.Hi, r.ZP)
	for ; i < n; i++ {
		dst[i] = byte(requantOne(acc[i]+bias[i]+add, scale[i], r.Lo, r.Hi) + r.ZP)
	}
}

// RowF32 requantizes one row of n accumulators into centred values
// (relative to the zero point) held in float32.
func (r *QRequant) RowF32(dst []float32, acc []int32, add int32) {
	n := len(dst)
	acc, bias, scale := acc[:n], r.Bias[:n], r.Scale[:n]
	i := requantRowF32Arch(dst, acc, bias, scale, add, r.Lo, r.Hi)
	for ; i < n; i++ {
		dst[i] = float32(requantOne(acc[i]+bias[i]+add, scale[i], r.Lo, r.Hi))
	}
}

func requantOne(acc int32, scale, lo, hi float32) int32 {
	return int32(RoundEven(min(max(float32(acc)*scale, lo), hi)))
}

// HasQDot reports whether GemmQ runs on int8 dot-product instructions;
// without them a float32 GEMM of the same integers is faster.
func HasQDot() bool { return useQVNNI }

// DwRowQ adds kw taps of a depthwise convolution on bytes to n pixels of
// int32 accumulators: acc[p*c+ch] += sum_t x[p*xstride+t*tapstride+ch] *
// int16(w[t*c+ch]) (the weights are int16 in the low halves of int32,
// DwWeightQ).
func DwRowQ(acc []int32, x []byte, xstride, tapstride int, w []int32, n, c, kw int) {
	if n <= 0 || kw <= 0 || c <= 0 {
		return
	}
	_ = acc[n*c-1]
	_ = x[(n-1)*xstride+(kw-1)*tapstride+c-1]
	_ = w[kw*c-1]
	if !dwRowQArch(acc, x, xstride, tapstride, w, n, c, kw) {
		dwRowQGo(acc, x, xstride, tapstride, w, n, c, kw)
	}
}

func dwRowQGo(acc []int32, x []byte, xstride, tapstride int, w []int32, n, c, kw int) {
	for p := 0; p < n; p++ {
		a := acc[p*c : (p+1)*c]
		for t := 0; t < kw; t++ {
			xs := x[p*xstride+t*tapstride : p*xstride+t*tapstride+c]
			ws := w[t*c : (t+1)*c]
			for ch, v := range xs {
				a[ch] += int32(v) * int32(int16(ws[ch]))
			}
		}
	}
}

// DwWeightQ is a depthwise weight as DwRowQ takes it: v (|v| < 2^15) in
// the low half of an int32, the high half zero.
func DwWeightQ(v int32) int32 { return int32(uint16(int16(v))) }

// GemmQBytes is GemmQ followed by r.RowU8 on each row i (with add
// adds[i], or 0 for nil adds) into dst, row stride ldd >= N: with int8
// dot products the requantization happens in the kernel's registers and
// no int32 sums are stored. r.Bias and r.Scale must hold b.Cols() values
// (those past N are not used).
func GemmQBytes(m int, a []byte, lda int, b *PackedQ, dst []byte, ldd int, r *QRequant, adds []int32, s *QScratch) {
	if m <= 0 {
		return
	}
	k, cols := b.K, b.Cols()
	if lda < k || ldd < b.N || len(r.Bias) < cols || len(r.Scale) < cols || adds != nil && len(adds) < m {
		panic("kernels: GemmQBytes strides or requantization too small")
	}
	_ = a[(m-1)*lda+k-1]
	_ = dst[(m-1)*ldd+b.N-1]
	if s == nil {
		s = &QScratch{}
	}
	if !useQVNNI {
		// The Go twin: int32 sums of up to qRows rows, then each row.
		if cap(s.c) < qRows*cols {
			s.c = make([]int32, qRows*cols)
		}
		for r0 := 0; r0 < m; r0 += qRows {
			rows := min(qRows, m-r0)
			GemmQ(rows, a[r0*lda:], lda, b, s.c, cols, s)
			for i := 0; i < rows; i++ {
				var add int32
				if adds != nil {
					add = adds[r0+i]
				}
				r.RowU8(dst[(r0+i)*ldd:(r0+i)*ldd+b.N], s.c[i*cols:(i+1)*cols], add)
			}
		}
		return
	}
	kb := 4 * b.quads
	safe := safeRows(m, lda, kb, len(a))
	gemmQBytesRows(safe, a, lda, b, dst, ldd, r, adds)
	if safe == m {
		return
	}
	buf := s.rows(a, lda, k, kb, safe, m)
	var tail []int32
	if adds != nil {
		tail = adds[safe:]
	}
	gemmQBytesRows(m-safe, buf, kb, b, dst[safe*ldd:], ldd, r, tail)
}

// DwQBytes computes n output pixels of a depthwise convolution on bytes
// whose taps all lie inside the input, requantized to bytes: pixel p's
// channel ch is r applied to sum_t x[p*xstride+offs[t]+ch] *
// int16(w[t*c+ch]), written to dst[p*dstride+ch]. With int8 dot products
// the sums never leave the registers.
func DwQBytes(dst []byte, dstride int, x []byte, xstride int, offs []int, w []int32, n, c int, r *QRequant) {
	taps := len(offs)
	if n <= 0 || c <= 0 || taps == 0 {
		return
	}
	_ = dst[(n-1)*dstride+c-1]
	_ = w[taps*c-1]
	_, _ = r.Bias[c-1], r.Scale[c-1]
	for _, o := range offs {
		if o < 0 {
			panic("kernels: DwQBytes negative tap offset")
		}
		_ = x[(n-1)*xstride+o+c-1]
	}
	if dwQBytesArch(dst, dstride, x, xstride, offs, w, n, c, r) {
		return
	}
	acc := make([]int32, c)
	for p := 0; p < n; p++ {
		clear(acc)
		for t, o := range offs {
			dwRowQGo(acc, x[p*xstride+o:], 0, 0, w[t*c:], 1, c, 1)
		}
		r.RowU8(dst[p*dstride:p*dstride+c], acc, 0)
	}
}

// QuantizeU8 quantizes real values as TFLite's QUANTIZE does, into bytes:
// dst[i] = clamp(round(x[i]/scale) + zp, qmin, qmax) + shift, rounding
// half away from zero (shift 128 stores int8 values as bytes).
func QuantizeU8(dst []byte, x []float32, scale float32, zp, qmin, qmax, shift int32) {
	dst = dst[:len(x)]
	i := quantizeU8Arch(dst, x, scale, zp, qmin, qmax, shift)
	for ; i < len(x); i++ {
		dst[i] = byte(QuantizeOne(x[i], scale, zp, qmin, qmax) + shift)
	}
}

// QuantizeOne is one value of QuantizeU8 before the shift.
func QuantizeOne(x, scale float32, zp, qmin, qmax int32) int32 {
	// x/scale is a float32, so r + 0.5 is exact in float64 and the floor
	// rounds half away from zero as math.Round does, at a fraction of
	// its cost.
	r := min(max(float64(x/scale), -1e9), 1e9)
	if r >= 0 {
		r = math.Floor(r + 0.5)
	} else {
		r = -math.Floor(0.5 - r)
	}
	return min(max(int32(r)+zp, qmin), qmax)
}

// AddU8 sets acc[i] += x[i]; MaxU8 sets acc[i] = max(acc[i], x[i]): the
// integer pools' sums over their window.
func AddU8(acc []int32, x []byte) {
	acc = acc[:len(x)]
	for i := accumulateU8Arch(acc, x, false); i < len(x); i++ {
		acc[i] += int32(x[i])
	}
}

// MaxU8 is AddU8 with max for the sum.
func MaxU8(acc []int32, x []byte) {
	acc = acc[:len(x)]
	for i := accumulateU8Arch(acc, x, true); i < len(x); i++ {
		acc[i] = max(acc[i], int32(x[i]))
	}
}

// DwQBytes3 is DwQBytes for stride 1 and kh kernel rows of 3 taps, rows
// rowstride bytes apart (the taps of kernel row ky at ky*rowstride +
// {0, c, 2c}), dst and x pixels c bytes apart: the common depthwise
// layer, eight and four pixels at a time where the CPU allows.
func DwQBytes3(dst, x []byte, rowstride int, w []int32, n, c, kh int, r *QRequant) {
	if n <= 0 || c <= 0 || kh <= 0 {
		return
	}
	_ = dst[n*c-1]
	_ = x[(kh-1)*rowstride+(n+1)*c+c-1]
	_ = w[3*kh*c-1]
	_, _ = r.Bias[c-1], r.Scale[c-1]
	done := dwQBytes3Arch(dst, x, rowstride, w, n, c, kh, r)
	if done == n {
		return
	}
	var offBuf [48]int
	offs := offBuf[:0]
	if 3*kh > len(offBuf) {
		offs = make([]int, 0, 3*kh)
	}
	for ky := 0; ky < kh; ky++ {
		offs = append(offs, ky*rowstride, ky*rowstride+c, ky*rowstride+2*c)
	}
	DwQBytes(dst[done*c:], c, x[done*c:], c, offs, w, n-done, c, r)
}
