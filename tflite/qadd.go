package tflite

import (
	"fmt"

	"github.com/dlcv-go/dlcv/internal/kernels"
)

// qadd is the integer path of a quantized ADD on bytes. TFLite's
// fixed-point arithmetic (each input's centred value shifted left by 20
// and rescaled, their sum rescaled to the output, clamped) maps two bytes
// to one, so it is a table of 64K bytes, computed at load with
// kernels.Multiplier: one load per element instead of three rescalings.
type qadd struct {
	tab                      *[1 << 16]byte // [a<<8 | b]: the output byte
	za, zb                   int32          // the inputs' zero points as bytes
	zp                       int32          // the output's
	aBytes, bBytes, outBytes bool
}

func (o *addOp) newQAdd(m *Model) {
	if !o.quant || !useQ() {
		return
	}
	qa, qb, qo := m.qps[o.a], m.qps[o.b], m.qps[o.out]
	q := &qadd{tab: new([1 << 16]byte)}
	q.za, q.zb = qa.zp+byteShift(qa), qb.zp+byteShift(qb)
	var ta, tb [256]int32
	for i := range 256 {
		ta[i] = o.ma.Apply((int32(i) - q.za) << addLeftShift)
		tb[i] = o.mb.Apply((int32(i) - q.zb) << addLeftShift)
	}
	s := byteShift(qo)
	q.zp = o.zp + s
	for a := range 256 {
		for b := range 256 {
			q.tab[a<<8|b] = byte(min(max(o.mo.Apply(ta[a]+tb[b])+o.zp, o.qlo), o.qhi) + s)
		}
	}
	o.q = q
}

func (o *addOp) integer() bool { return o.q != nil }

func (o *addOp) setBytes(bytes []bool) {
	o.q.aBytes, o.q.bBytes, o.q.outBytes = bytes[o.a], bytes[o.b], bytes[o.out]
}

func (o *addOp) runQ(st *state) error {
	q := o.q
	sa, sb := st.shapes[o.a], st.shapes[o.b]
	xa, xb := st.bytesIn(o.a, q.aBytes, 0, q.za), st.bytesIn(o.b, q.bBytes, 1, q.zb)
	switch {
	case len(xa) == len(xb):
	case len(xb) == 1:
	default:
		return fmt.Errorf("tflite: %s (ADD): shapes %v and %v differ (broadcasting is not supported)", o.path, sa, sb)
	}
	t := &st.qadd
	*t = qaddTask{q: q, a: xa, b: xb}
	t.y, t.yq = st.outputs(o.out, sa, q.outBytes)
	kernels.Parallel(len(xa), 4096, t)
	*t = qaddTask{}
	return nil
}

// qaddTask adds elements [lo, hi).
type qaddTask struct {
	q    *qadd
	a, b []byte
	y    []float32
	yq   []byte
}

func (t *qaddTask) Run(lo, hi int) {
	tab := t.q.tab
	a := t.a[lo:hi]
	switch {
	case len(t.b) == 1 && t.yq != nil:
		b := int(t.b[0])
		for i, v := range a {
			t.yq[lo+i] = tab[int(v)<<8|b]
		}
	case t.yq != nil:
		b, y := t.b[lo:hi], t.yq[lo:hi]
		for i, v := range a {
			y[i] = tab[int(v)<<8|int(b[i])]
		}
	default:
		zp := t.q.zp
		for i, v := range a {
			bi := 0
			if len(t.b) > 1 {
				bi = lo + i
			}
			t.y[lo+i] = float32(int32(tab[int(v)<<8|int(t.b[bi])]) - zp)
		}
	}
}
