package tflite

import "github.com/dlcv-go/dlcv/internal/kernels"

// The integer path of quantized AVERAGE_POOL_2D and MAX_POOL_2D: bytes in
// and out (see qconv.go), the same integer rounding as the float32 path.
// Input and output share their quantization (sameQuant), so a byte is the
// same value on both sides.

func (o *poolOp) integer() bool { return o.qint }

func (o *poolOp) setBytes(bytes []bool) { o.inBytes, o.outBytes = bytes[o.in], bytes[o.out] }

// runQ pools the input's bytes (converted first when it is centred
// float32) with int32 sums.
func (o *poolOp) runQ(st *state, n, h, w, c, oh, ow, pt, pl int) {
	x := st.bytesIn(o.in, o.inBytes, 0, o.q.zp+byteShift(o.q))
	y, yq := st.outputs(o.out, []int{n, oh, ow, c}, o.outBytes)
	if cap(st.poolAcc) < c {
		st.poolAcc = make([]int32, c)
	}
	t := &st.qpool
	*t = qpoolTask{o: o, x: x, y: y, yq: yq, acc: st.poolAcc[:c], n: n, h: h, w: w, c: c, oh: oh, ow: ow, pt: pt, pl: pl}
	// The channels split over the cores (a global pool has one pixel).
	kernels.Parallel(c, max(16, 8192/max(o.p.kh*o.p.kw*oh*ow, 1)), t)
	*t = qpoolTask{}
}

// qpoolTask pools channels [lo, hi) of every output pixel.
type qpoolTask struct {
	o                          *poolOp
	x                          []byte
	y                          []float32
	yq                         []byte
	acc                        []int32
	n, h, w, c, oh, ow, pt, pl int
}

func (t *qpoolTask) Run(lo, hi int) {
	o, c, h, w := t.o, t.c, t.h, t.w
	shift := byteShift(o.q)
	zp := o.q.zp
	acc := t.acc[lo:hi]
	for b := 0; b < t.n; b++ {
		for i := 0; i < t.oh; i++ {
			for j := 0; j < t.ow; j++ {
				y0, y1 := max(i*o.p.strideH-t.pt, 0), min(i*o.p.strideH-t.pt+o.p.kh, h)
				x0, x1 := max(j*o.p.strideW-t.pl, 0), min(j*o.p.strideW-t.pl+o.p.kw, w)
				clear(acc)
				for yy := y0; yy < y1; yy++ {
					for xx := x0; xx < x1; xx++ {
						p := ((b*h+yy)*w+xx)*c + lo
						row := t.x[p : p+len(acc)]
						if o.max {
							kernels.MaxU8(acc, row)
						} else {
							kernels.AddU8(acc, row)
						}
					}
				}
				cnt := int32(max((y1-y0)*(x1-x0), 1))
				base := ((b*t.oh+i)*t.ow+j)*c + lo
				for k, s := range acc {
					// s sums bytes: q values plus shift each.
					q := s - shift
					if !o.max {
						q = roundedAverage(s-cnt*shift, cnt)
					}
					q = min(max(q, o.qlo), o.qhi)
					if t.yq != nil {
						t.yq[base+k] = byte(q + shift)
					} else {
						t.y[base+k] = float32(q - zp)
					}
				}
			}
		}
	}
}
