package tflite

// The integer path of quantized AVERAGE_POOL_2D and MAX_POOL_2D: bytes in
// and out (see qconv.go), the same integer rounding as the float32 path.
// Input and output share their quantization (sameQuant), so a byte is the
// same value on both sides.

func (o *poolOp) integer() bool { return o.q != nil && useQ() }

func (o *poolOp) setBytes(bytes []bool) { o.inBytes, o.outBytes = bytes[o.in], bytes[o.out] }

// runQ pools with integer sums of the input's centred values, read from
// bytes or from centred float32.
func (o *poolOp) runQ(st *state, n, h, w, c, oh, ow, pt, pl int) {
	shift := byteShift(o.q)
	zb := o.q.zp + shift // the zero point as a byte
	var x []byte
	if o.inBytes {
		x = st.q[o.in]
	} else {
		x = st.toBytes(0, st.data[o.in], zb)
	}
	shape := []int{n, oh, ow, c}
	var y []float32
	var yq []byte
	if o.outBytes {
		yq = st.outQ(o.out, shape)
	} else {
		y = st.out(o.out, shape)
	}
	if cap(st.poolAcc) < c {
		st.poolAcc = make([]int32, c)
	}
	acc := st.poolAcc[:c]
	zp := o.q.zp
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				y0, y1 := max(i*o.p.strideH-pt, 0), min(i*o.p.strideH-pt+o.p.kh, h)
				x0, x1 := max(j*o.p.strideW-pl, 0), min(j*o.p.strideW-pl+o.p.kw, w)
				clear(acc)
				for yy := y0; yy < y1; yy++ {
					for xx := x0; xx < x1; xx++ {
						row := x[((b*h+yy)*w+xx)*c:][:c]
						if o.max {
							for k, v := range row {
								acc[k] = max(acc[k], int32(v))
							}
						} else {
							for k, v := range row {
								acc[k] += int32(v)
							}
						}
					}
				}
				cnt := int32(max((y1-y0)*(x1-x0), 1))
				base := ((b*oh+i)*ow + j) * c
				for k, s := range acc {
					// s sums bytes: q values plus shift each.
					var q int32
					if o.max {
						q = s - shift
					} else if sum := s - cnt*shift; sum >= 0 {
						// TFLite's rounding of the quantized average.
						q = (sum + cnt/2) / cnt
					} else {
						q = (sum - cnt/2) / cnt
					}
					q = min(max(q, o.qlo), o.qhi)
					if yq != nil {
						yq[base+k] = byte(q + shift)
					} else {
						y[base+k] = float32(q - zp)
					}
				}
			}
		}
	}
}
