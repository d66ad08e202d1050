package tflite

import "fmt"

// depthwiseOp is DEPTHWISE_CONV_2D on NHWC data. Weights keep TFLite's
// [1, KH, KW, C*mult] layout, so for one kernel row the KW taps of all
// channels are contiguous, exactly like the KW input pixels they multiply:
// the inner loops run over channels (unit stride, no bounds checks) and
// goroutines split the output rows.
type depthwiseOp struct {
	in, out        int
	p              convParams
	kh, kw, ic, oc int
	mult           int
	w              []float32 // [kh][kw][oc]
	zeros          []float32 // oc zeros: the weights and inputs of taps outside the image
	ep             epilogue
	path           string
}

func (m *Model) compileDepthwise(od *opDef) (op, error) {
	if err := ioCheck(od, 2, 3, 1); err != nil {
		return nil, err
	}
	p, mult, err := readConvOptions(od)
	if err != nil {
		return nil, err
	}
	if err := m.filterRank(od, 4); err != nil {
		return nil, err
	}
	ws := m.defs[od.Inputs[1]].Shape
	if ws[0] != 1 {
		return nil, fmt.Errorf("tflite: %s (DEPTHWISE_CONV_2D): filter shape %v, want [1 KH KW C]", od.path, ws)
	}
	o := &depthwiseOp{in: od.Inputs[0], out: od.Outputs[0], p: p, kh: ws[1], kw: ws[2], oc: ws[3], path: od.path}
	if o.w, o.ep, err = m.convWeights(od, 4, o.oc, p.act); err != nil {
		return nil, err
	}
	if mult < 1 || o.oc%mult != 0 {
		// Some converters write depth_multiplier 0 or leave it stale; the
		// filter and input shapes decide at run time.
		mult = 0
	}
	o.mult = mult
	o.zeros = make([]float32, o.oc)
	return o, nil
}

func (o *depthwiseOp) run(st *state) error {
	s, err := inShape(st, o.in, 4, "DEPTHWISE_CONV_2D")
	if err != nil {
		return err
	}
	n, h, w, c := s[0], s[1], s[2], s[3]
	if c == 0 || o.oc%c != 0 {
		return fmt.Errorf("tflite: %s (DEPTHWISE_CONV_2D): input %v does not divide the filter's %d channels", o.path, s, o.oc)
	}
	mult := o.oc / c
	oh, pt := outSize(h, o.kh, o.p.strideH, o.p.dilH, o.p.same)
	ow, pl := outSize(w, o.kw, o.p.strideW, o.p.dilW, o.p.same)
	x := st.data[o.in]
	y := st.out(o.out, []int{n, oh, ow, o.oc})
	fast := mult == 1 && o.p.dilH == 1 && o.p.dilW == 1 && o.kw == 3
	grain := max(1, 4096/max(ow*o.oc, 1))
	parallelFor(n*oh, grain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, i := r/oh, r%oh
			dst := y[r*ow*o.oc : (r+1)*ow*o.oc]
			if fast {
				o.row3(x, dst, b, i, h, w, ow, pt, pl)
			} else {
				o.rowGeneric(x, dst, b, i, h, w, c, mult, ow, pt, pl)
			}
			for j := 0; j < ow; j++ {
				o.ep.row(dst[j*o.oc : (j+1)*o.oc])
			}
		}
	})
	return nil
}

// row3 computes one output row of a KHx3 depthwise convolution with
// multiplier 1 and no dilation (MobileNet's 3x3 stride 1 and 2).
func (o *depthwiseOp) row3(x, dst []float32, b, i, h, w, ow, pt, pl int) {
	c := o.oc
	sh, sw := o.p.strideH, o.p.strideW
	for j := 0; j < ow; j++ {
		acc := dst[j*c : (j+1)*c]
		clear(acc)
		ix := j*sw - pl
		for ky := 0; ky < o.kh; ky++ {
			iy := i*sh - pt + ky
			if iy < 0 || iy >= h {
				continue
			}
			wr := o.w[ky*3*c : (ky+1)*3*c]
			base := ((b*h+iy)*w + ix) * c
			if ix >= 0 && ix+3 <= w {
				xr := x[base : base+3*c]
				mac3(acc, xr[:c], xr[c:2*c], xr[2*c:], wr[:c], wr[c:2*c], wr[2*c:])
				continue
			}
			// At the left/right border, missing taps get zero weights.
			var xs, ws [3][]float32
			for kx := 0; kx < 3; kx++ {
				xs[kx], ws[kx] = o.zeros, o.zeros
				if xx := ix + kx; xx >= 0 && xx < w {
					xs[kx], ws[kx] = x[base+kx*c:base+(kx+1)*c], wr[kx*c:(kx+1)*c]
				}
			}
			mac3(acc, xs[0], xs[1], xs[2], ws[0], ws[1], ws[2])
		}
	}
}

// mac3Go is acc += x0*w0 + x1*w1 + x2*w2 element-wise: one load and store
// of acc per three taps (mac3 picks it or the AVX2 version).
func mac3Go(acc, x0, x1, x2, w0, w1, w2 []float32) {
	n := len(acc)
	x0, x1, x2 = x0[:n], x1[:n], x2[:n]
	w0, w1, w2 = w0[:n], w1[:n], w2[:n]
	k := 0
	for ; k+4 <= n; k += 4 {
		a0 := acc[k] + x0[k]*w0[k] + x1[k]*w1[k] + x2[k]*w2[k]
		a1 := acc[k+1] + x0[k+1]*w0[k+1] + x1[k+1]*w1[k+1] + x2[k+1]*w2[k+1]
		a2 := acc[k+2] + x0[k+2]*w0[k+2] + x1[k+2]*w1[k+2] + x2[k+2]*w2[k+2]
		a3 := acc[k+3] + x0[k+3]*w0[k+3] + x1[k+3]*w1[k+3] + x2[k+3]*w2[k+3]
		acc[k], acc[k+1], acc[k+2], acc[k+3] = a0, a1, a2, a3
	}
	for ; k < n; k++ {
		acc[k] += x0[k]*w0[k] + x1[k]*w1[k] + x2[k]*w2[k]
	}
}

// mac1 is acc += x*w element-wise.
func mac1(acc, x, w []float32) {
	x, w = x[:len(acc)], w[:len(acc)]
	for k := range acc {
		acc[k] += x[k] * w[k]
	}
}

// rowGeneric handles any kernel size, dilation and depth multiplier.
func (o *depthwiseOp) rowGeneric(x, dst []float32, b, i, h, w, c, mult, ow, pt, pl int) {
	oc := o.oc
	for j := 0; j < ow; j++ {
		acc := dst[j*oc : (j+1)*oc]
		clear(acc)
		for ky := 0; ky < o.kh; ky++ {
			iy := i*o.p.strideH - pt + ky*o.p.dilH
			if iy < 0 || iy >= h {
				continue
			}
			for kx := 0; kx < o.kw; kx++ {
				ix := j*o.p.strideW - pl + kx*o.p.dilW
				if ix < 0 || ix >= w {
					continue
				}
				xp := x[((b*h+iy)*w+ix)*c:][:c]
				wp := o.w[(ky*o.kw+kx)*oc:][:oc]
				if mult == 1 {
					mac1(acc, xp, wp)
					continue
				}
				for ci, v := range xp {
					for m := 0; m < mult; m++ {
						acc[ci*mult+m] += v * wp[ci*mult+m]
					}
				}
			}
		}
	}
}
