package onnx

import (
	"slices"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Convolutions, pooling and normalisation: they compute channels last,
// so their input is stored NHWC ((N, L, C) for 1-D ops, which run as
// 2-D ops of height 1) and so is their output.

func init() {
	register(1, convOp, "Conv")
	register(1, convTransposeOp, "ConvTranspose")
	register(1, poolOp, "MaxPool", "AveragePool")
	register(1, globalPoolOp, "GlobalAveragePool", "GlobalMaxPool")
	register(1, batchNormOp, "BatchNormalization")
	register(1, instanceNormOp, "InstanceNormalization")
	register(1, lrnOp, "LRN")
	register(17, layerNormOp, "LayerNormalization")
}

// spatial2D returns x as an NHWC 4-D value: a 4-D input stored channels
// last, or a 3-D (N, C, L) input as (N, 1, L, C).
func (c *converter) spatial2D(x *tval) (ref string, shape []int, oneD bool, err error) {
	r := x.rank()
	switch r {
	case 4:
		ref, err = c.ref(x, channelsLast(4))
		return ref, c.shapes[ref], false, err
	case 3:
		if ref, err = c.ref(x, channelsLast(3)); err != nil {
			return "", nil, false, err
		}
		ref, shape, err = c.emit1("as2d", nn.NewUnsqueeze(1), ref)
		return ref, shape, true, err
	}
	return "", nil, false, c.errf("input of rank %d: only 1-D and 2-D (rank 3 and 4) inputs are supported", r)
}

// spatialOut records an NHWC result, squeezing the height of a 1-D op.
// same[ax] says the op keeps spatial axis ax's size (stride 1 and the
// padding of its window), so the output shares the input's symbol.
func (c *converter) spatialOut(i int, ref string, shape []int, oneD bool, x *tval, same [2]bool) error {
	if oneD {
		var err error
		if ref, shape, err = c.emit1("as1d", nn.NewSqueeze(1), ref); err != nil {
			return err
		}
		same[0] = same[1]
	}
	out := c.value(ref, shape, channelsLast(len(shape)), x.dtype)
	if x.rank() == len(shape) {
		m := append([]int{0}, slices.Repeat([]int{-1}, len(shape)-1)...)
		for ax := 0; ax < len(shape)-2; ax++ {
			if same[ax] {
				m[2+ax] = 2 + ax
			}
		}
		keepDims(out, x, m)
	}
	c.setOut(i, out)
	return nil
}

// keepsSize reports, per spatial axis, whether a window op leaves the
// size unchanged: stride 1 and padding that makes up the window.
func keepsSize(a convAttrs, pad nn.Padding) [2]bool {
	var same [2]bool
	for ax := range 2 {
		e := (a.kernel[ax]-1)*a.dilations[ax] + 1
		total := pad.Top + pad.Bottom
		if ax == 1 {
			total = pad.Left + pad.Right
		}
		switch pad.Mode {
		case "same":
			same[ax] = a.strides[ax] == 1
		case "explicit":
			same[ax] = a.strides[ax] == 1 && total == e-1
		default:
			same[ax] = a.strides[ax] == 1 && e == 1
		}
	}
	return same
}

// convAttrs are the window attributes of Conv, ConvTranspose and the
// pools, for 2 spatial axes (a 1-D op gets height 1).
type convAttrs struct {
	kernel, strides, dilations [2]int
	pads                       [4]int // top, left, bottom, right
	autoPad                    string
}

func (c *converter) windowAttrs(oneD bool, kernelFromW []int) (convAttrs, error) {
	var a convAttrs
	nsp := 2
	if oneD {
		nsp = 1
	}
	get := func(name string, def int64) ([]int, error) {
		v, ok, err := c.attrInts(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			out := make([]int, nsp)
			for i := range out {
				out[i] = int(def)
			}
			return out, nil
		}
		return toInts(v), nil
	}
	k, ok, err := c.attrInts("kernel_shape")
	if err != nil {
		return a, err
	}
	kernel := toInts(k)
	if !ok {
		if kernelFromW == nil {
			return a, c.errf("kernel_shape is missing")
		}
		kernel = kernelFromW
	}
	strides, err := get("strides", 1)
	if err != nil {
		return a, err
	}
	dil, err := get("dilations", 1)
	if err != nil {
		return a, err
	}
	pads, err := get("pads", 0)
	if err != nil {
		return a, err
	}
	if _, ok, _ := c.attrInts("pads"); !ok {
		pads = make([]int, 2*nsp)
	}
	if len(kernel) != nsp || len(strides) != nsp || len(dil) != nsp || len(pads) != 2*nsp {
		return a, c.errf("kernel_shape %v, strides %v, dilations %v and pads %v do not fit %d spatial axes", kernel, strides, dil, pads, nsp)
	}
	if a.autoPad, err = c.attrString("auto_pad", "NOTSET"); err != nil {
		return a, err
	}
	if oneD {
		a.kernel = [2]int{1, kernel[0]}
		a.strides = [2]int{1, strides[0]}
		a.dilations = [2]int{1, dil[0]}
		a.pads = [4]int{0, pads[0], 0, pads[1]}
	} else {
		a.kernel = [2]int{kernel[0], kernel[1]}
		a.strides = [2]int{strides[0], strides[1]}
		a.dilations = [2]int{dil[0], dil[1]}
		a.pads = [4]int{pads[0], pads[1], pads[2], pads[3]}
	}
	for i := range 2 {
		if a.kernel[i] < 1 || a.strides[i] < 1 || a.dilations[i] < 1 {
			return a, c.errf("kernel %v, strides %v and dilations %v must be >= 1", kernel, strides, dil)
		}
	}
	for _, p := range a.pads {
		if p < 0 {
			return a, c.errf("negative pads %v", pads)
		}
	}
	return a, nil
}

// padding resolves auto_pad for an NHWC input shape.
func (c *converter) padding(a convAttrs, in []int) (nn.Padding, error) {
	switch a.autoPad {
	case "NOTSET", "":
		return nn.Padding{Mode: "explicit", Top: a.pads[0], Left: a.pads[1], Bottom: a.pads[2], Right: a.pads[3]}, nil
	case "VALID":
		return nn.Padding{Mode: "explicit"}, nil
	case "SAME_UPPER":
		return nn.Same, nil
	case "SAME_LOWER":
		// The odd pixel goes before: explicit pads for a known size.
		var p nn.Padding
		p.Mode = "explicit"
		for ax := range 2 {
			n := in[1+ax]
			if n < 0 {
				return p, c.errf("auto_pad SAME_LOWER needs the input size at import (fix it with InputShapes)")
			}
			s, e := a.strides[ax], (a.kernel[ax]-1)*a.dilations[ax]+1
			out := (n + s - 1) / s
			total := max((out-1)*s+e-n, 0)
			lo, hi := total-total/2, total/2
			if ax == 0 {
				p.Top, p.Bottom = lo, hi
			} else {
				p.Left, p.Right = lo, hi
			}
		}
		return p, nil
	}
	return nn.Padding{}, c.errf("auto_pad %q is not supported", a.autoPad)
}

func convOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	w, err := c.konstIn(1, "the weights")
	if err != nil {
		return err
	}
	var b *Data
	if v, _ := c.in(2); v != nil {
		if b, err = c.konstIn(2, "the bias"); err != nil {
			return err
		}
	}
	if len(w.Shape) != x.rank() {
		return c.errf("weights %s for input %s", shapeText(w.Shape), shapeText(x.onnxShape()))
	}
	in, shape, oneD, err := c.spatial2D(x)
	if err != nil {
		return err
	}
	group, err := c.attrInt("group", 1)
	if err != nil {
		return err
	}
	f := w.Shape[0]
	cg := w.Shape[1]
	if group < 1 || f%int(group) != 0 {
		return c.errf("group %d does not divide %d filters", group, f)
	}
	cin := cg * int(group)
	if shape[3] >= 0 && shape[3] != cin {
		return c.errf("input has %d channels, the weights %s with group %d want %d", shape[3], shapeText(w.Shape), group, cin)
	}
	// Kernel (F, C/g, KH, KW) -> (KH, KW, C/g, F).
	wt := w.Tensor()
	if oneD {
		wt = &tensor.Tensor{Shape: []int{f, cg, 1, w.Shape[2]}, Data: wt.Data}
	}
	a, err := c.windowAttrs(oneD, w.Shape[2:])
	if err != nil {
		return err
	}
	if a.kernel[0] != wt.Shape[2] || a.kernel[1] != wt.Shape[3] {
		return c.errf("kernel_shape %v does not match the weights %s", a.kernel, shapeText(w.Shape))
	}
	pad, err := c.padding(a, shape)
	if err != nil {
		return err
	}
	op := &nn.Conv2D{Filters: f, KernelH: a.kernel[0], KernelW: a.kernel[1], StrideH: a.strides[0], StrideW: a.strides[1],
		Padding: pad, UseBias: b != nil, Groups: int(group), DilationH: a.dilations[0], DilationW: a.dilations[1],
		Initializer: nn.Zeros}
	var bias *tensor.Tensor
	if b != nil {
		if len(b.Float) != f {
			return c.errf("bias has %d values for %d filters", len(b.Float), f)
		}
		bias = b.Tensor()
	}
	inShape := slices.Clone(shape)
	inShape[3] = cin
	if err := c.withKernel(op, [][]int{inShape}, wt, []int{2, 3, 1, 0}, bias); err != nil {
		return err
	}
	ref, oshape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	return c.spatialOut(0, ref, oshape, oneD, x, keepsSize(a, pad))
}

func convTransposeOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	w, err := c.konstIn(1, "the weights")
	if err != nil {
		return err
	}
	var b *Data
	if v, _ := c.in(2); v != nil {
		if b, err = c.konstIn(2, "the bias"); err != nil {
			return err
		}
	}
	if len(w.Shape) != x.rank() {
		return c.errf("weights %s for input %s", shapeText(w.Shape), shapeText(x.onnxShape()))
	}
	in, shape, oneD, err := c.spatial2D(x)
	if err != nil {
		return err
	}
	group, err := c.attrInt("group", 1)
	if err != nil {
		return err
	}
	cin, fg := w.Shape[0], w.Shape[1]
	f := fg * int(group)
	if group < 1 || cin%int(group) != 0 {
		return c.errf("group %d does not divide %d input channels", group, cin)
	}
	if shape[3] >= 0 && shape[3] != cin {
		return c.errf("input has %d channels, the weights %s want %d", shape[3], shapeText(w.Shape), cin)
	}
	wt := w.Tensor()
	if oneD {
		wt = &tensor.Tensor{Shape: []int{cin, fg, 1, w.Shape[2]}, Data: wt.Data}
	}
	a, err := c.windowAttrs(oneD, w.Shape[2:])
	if err != nil {
		return err
	}
	opad := [2]int{}
	if v, ok, err := c.attrInts("output_padding"); err != nil {
		return err
	} else if ok {
		if oneD && len(v) == 1 {
			opad[1] = int(v[0])
		} else if len(v) == 2 {
			opad = [2]int{int(v[0]), int(v[1])}
		} else {
			return c.errf("output_padding %v", v)
		}
	}
	pads := a.pads
	outShape, hasOut, err := c.attrInts("output_shape")
	if err != nil {
		return err
	}
	if hasOut || (a.autoPad != "NOTSET" && a.autoPad != "") {
		// Total padding from the wanted output size (ONNX's formula).
		var want [2]int
		for ax := range 2 {
			n := shape[1+ax]
			if n < 0 {
				return c.errf("output_shape and auto_pad need the input size at import (fix it with InputShapes)")
			}
			want[ax] = n * a.strides[ax]
		}
		if hasOut {
			os := toInts(outShape)
			if len(os) > 2 {
				os = os[len(os)-2:] // the spatial axes of a full shape
			}
			if oneD && len(os) == 1 {
				os = []int{1, os[0]}
			}
			if len(os) != 2 {
				return c.errf("output_shape %v", outShape)
			}
			want = [2]int{os[0], os[1]}
		}
		for ax := range 2 {
			n := shape[1+ax]
			e := (a.kernel[ax]-1)*a.dilations[ax] + 1
			total := a.strides[ax]*(n-1) + opad[ax] + e - want[ax]
			if total < 0 {
				// A larger output than the kernel reaches: output
				// padding makes up the rest.
				opad[ax] -= total
				total = 0
			}
			lo, hi := total/2, total-total/2
			if a.autoPad != "SAME_UPPER" {
				lo, hi = total-total/2, total/2
			}
			pads[ax], pads[2+ax] = lo, hi
		}
	} else if a.autoPad == "VALID" {
		pads = [4]int{}
	}
	op := &nn.ConvTranspose2D{Filters: f, KernelH: a.kernel[0], KernelW: a.kernel[1], StrideH: a.strides[0], StrideW: a.strides[1],
		Padding:        nn.Padding{Mode: "explicit", Top: pads[0], Left: pads[1], Bottom: pads[2], Right: pads[3]},
		OutputPaddingH: opad[0], OutputPaddingW: opad[1], DilationH: a.dilations[0], DilationW: a.dilations[1],
		Groups: int(group), UseBias: b != nil, Initializer: nn.Zeros}
	var bias *tensor.Tensor
	if b != nil {
		if len(b.Float) != f {
			return c.errf("bias has %d values for %d filters", len(b.Float), f)
		}
		bias = b.Tensor()
	}
	inShape := slices.Clone(shape)
	inShape[3] = cin
	// (Cin, F/g, KH, KW) -> (KH, KW, F/g, Cin).
	if err := c.withKernel(op, [][]int{inShape}, wt, []int{2, 3, 1, 0}, bias); err != nil {
		return err
	}
	ref, oshape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	return c.spatialOut(0, ref, oshape, oneD, x, [2]bool{})
}

func poolOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	if len(c.node.Outputs) > 1 && c.node.Outputs[1] != "" {
		return c.errf("the Indices output is not supported")
	}
	in, shape, oneD, err := c.spatial2D(x)
	if err != nil {
		return err
	}
	a, err := c.windowAttrs(oneD, nil)
	if err != nil {
		return err
	}
	ceil, err := c.attrInt("ceil_mode", 0)
	if err != nil {
		return err
	}
	pad, err := c.padding(a, shape)
	if err != nil {
		return err
	}
	var op nn.Op
	if c.node.OpType == "MaxPool" {
		if a.dilations != [2]int{1, 1} {
			return c.errf("dilations %v are not supported", a.dilations)
		}
		op = &nn.MaxPool2D{PoolH: a.kernel[0], PoolW: a.kernel[1], StrideH: a.strides[0], StrideW: a.strides[1], Padding: pad, CeilMode: ceil != 0}
	} else {
		inc, err := c.attrInt("count_include_pad", 0)
		if err != nil {
			return err
		}
		if a.autoPad == "SAME_UPPER" || a.autoPad == "SAME_LOWER" {
			inc = 0
		}
		op = &nn.AveragePool2D{PoolH: a.kernel[0], PoolW: a.kernel[1], StrideH: a.strides[0], StrideW: a.strides[1], Padding: pad,
			CeilMode: ceil != 0, CountIncludePad: inc != 0}
	}
	ref, oshape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	same := keepsSize(a, pad)
	if ceil != 0 {
		same = [2]bool{}
	}
	return c.spatialOut(0, ref, oshape, oneD, x, same)
}

func globalPoolOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	r := x.rank()
	if r < 3 {
		return c.errf("input of rank %d; want (N, C, spatial...)", r)
	}
	in, err := c.ref(x, channelsLast(r))
	if err != nil {
		return err
	}
	var op nn.Op = &nn.GlobalAveragePool{KeepDims: true}
	if c.node.OpType == "GlobalMaxPool" {
		op = &nn.GlobalMaxPool{KeepDims: true}
	}
	ref, shape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	out := c.value(ref, shape, channelsLast(r), x.dtype)
	m := make([]int, r)
	for i := range m {
		m[i] = -1
	}
	m[0], m[1] = 0, 1
	keepDims(out, x, m)
	c.setOut(0, out)
	return nil
}

// chanVec reads a per-channel constant input of c values.
func (c *converter) chanVec(i, n int, what string) (*tensor.Tensor, error) {
	d, err := c.konstIn(i, what)
	if err != nil {
		return nil, err
	}
	if len(d.Float) != n {
		return nil, c.errf("%s has %d values for %d channels", what, len(d.Float), n)
	}
	return &tensor.Tensor{Shape: []int{n}, Data: d.Float}, nil
}

func batchNormOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	for i := 1; i < len(c.node.Outputs); i++ {
		if c.node.Outputs[i] != "" {
			return c.errf("training outputs (running statistics) are not supported")
		}
	}
	if tm, err := c.attrInt("training_mode", 0); err != nil || tm != 0 {
		return orErr(err, c.errf("training_mode 1 is not supported"))
	}
	if c.opset < 9 {
		if sp, err := c.attrInt("spatial", 1); err != nil || sp != 1 {
			return orErr(err, c.errf("spatial 0 is not supported"))
		}
	}
	eps, err := c.attrFloat("epsilon", 1e-5)
	if err != nil {
		return err
	}
	mom, err := c.attrFloat("momentum", 0.9)
	if err != nil {
		return err
	}
	if !(mom >= 0 && mom < 1) {
		mom = 0.9
	}
	r := x.rank()
	if r < 2 {
		return c.errf("input of rank %d", r)
	}
	perm := channelsLast(r)
	in, err := c.ref(x, perm)
	if err != nil {
		return err
	}
	shape := slices.Clone(c.shapes[in])
	ch := x.onnxShape()[1]
	sc, err := c.konstIn(1, "scale")
	if err != nil {
		return err
	}
	if ch < 0 {
		ch = len(sc.Float)
		shape[len(shape)-1] = ch
	}
	var ws []*tensor.Tensor
	for i, what := range []string{"scale", "bias", "mean", "variance"} {
		t, err := c.chanVec(1+i, ch, what)
		if err != nil {
			return err
		}
		ws = append(ws, t)
	}
	for _, v := range ws[3].Data {
		if v < 0 {
			return c.errf("variance has a negative value %v", v)
		}
	}
	if !(eps > 0) {
		eps = 1e-12 // nn.BatchNorm needs a positive epsilon
	}
	op := nn.NewBatchNorm(mom, eps)
	if err := c.withWeights(op, [][]int{shape}, ws...); err != nil {
		return err
	}
	ref, oshape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	out := c.value(ref, oshape, perm, x.dtype)
	sameDims(out, x)
	c.setOut(0, out)
	return nil
}

// reduceVal reduces x over ONNX axes with an nn reduction kind
// ("ReduceMean", "ReduceSum", "ReduceMax").
func (c *converter) reduceVal(kind string, x *tval, axes []int, keep bool) (*tval, error) {
	if err := c.plain(x); err != nil {
		return nil, err
	}
	r := x.rank()
	p := x.getPerm()
	pos := invert(p)
	red := make([]bool, r)
	var dax []int
	for _, a := range axes {
		red[a] = true
		dax = append(dax, pos[a])
	}
	slices.Sort(dax)
	var op nn.Op
	switch kind {
	case "ReduceMean":
		op = nn.NewReduceMean(keep, dax...)
	case "ReduceSum":
		op = nn.NewReduceSum(keep, dax...)
	default:
		op = nn.NewReduceMax(keep, dax...)
	}
	in, err := c.ref(x, p)
	if err != nil {
		return nil, err
	}
	ref, shape, err := c.emit1(snake(kind), op, in)
	if err != nil {
		return nil, err
	}
	var np, m []int
	if keep {
		np = p
		for a := range r {
			if red[a] {
				m = append(m, -1)
			} else {
				m = append(m, a)
			}
		}
	} else {
		renum := make([]int, r)
		k := 0
		for a := range r {
			renum[a] = k
			if !red[a] {
				k++
				m = append(m, a)
			}
		}
		for _, a := range p {
			if !red[a] {
				np = append(np, renum[a])
			}
		}
	}
	out := c.value(ref, shape, np, x.dtype)
	keepDims(out, x, m)
	return out, nil
}

func snake(s string) string {
	var b []byte
	for i, ch := range s {
		if ch >= 'A' && ch <= 'Z' {
			if i > 0 {
				b = append(b, '_')
			}
			ch += 'a' - 'A'
		}
		b = append(b, byte(ch))
	}
	return string(b)
}

// unaryVal applies an element-wise nn op to x in its layout.
func (c *converter) unaryVal(suffix string, op nn.Op, x *tval) (*tval, error) {
	in, err := c.ref(x, x.getPerm())
	if err != nil {
		return nil, err
	}
	ref, shape, err := c.emit1(suffix, op, in)
	if err != nil {
		return nil, err
	}
	out := c.value(ref, shape, x.perm, x.dtype)
	sameDims(out, x)
	return out, nil
}

func scalar(name string, v float32) *tval {
	return &tval{name: name, konst: &Data{Type: TypeFloat, Shape: []int{}, Float: []float32{v}}, dtype: TypeFloat}
}

// normalize returns (x - mean) / sqrt(var + eps) over ONNX axes.
func (c *converter) normalize(x *tval, axes []int, eps float32) (*tval, error) {
	mean, err := c.reduceVal("ReduceMean", x, axes, true)
	if err != nil {
		return nil, err
	}
	d, err := c.binary("Sub", x, mean)
	if err != nil {
		return nil, err
	}
	sq, err := c.binary("Mul", d, d)
	if err != nil {
		return nil, err
	}
	v, err := c.reduceVal("ReduceMean", sq, axes, true)
	if err != nil {
		return nil, err
	}
	if v, err = c.binary("Add", v, scalar(c.baseName()+"/eps", eps)); err != nil {
		return nil, err
	}
	if v, err = c.unaryVal("sqrt", nn.NewUnaryMath("Sqrt"), v); err != nil {
		return nil, err
	}
	return c.binary("Div", d, v)
}

// instanceNormOp: per sample and channel over the spatial axes, then a
// per-channel scale and bias.
func instanceNormOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	eps, err := c.attrFloat("epsilon", 1e-5)
	if err != nil {
		return err
	}
	r := x.rank()
	if r < 3 {
		return c.errf("input of rank %d", r)
	}
	var axes []int
	for a := 2; a < r; a++ {
		axes = append(axes, a)
	}
	y, err := c.normalize(x, axes, eps)
	if err != nil {
		return err
	}
	ch := x.onnxShape()[1]
	for i, op := range []string{"Mul", "Add"} {
		d, err := c.konstIn(1+i, []string{"scale", "B"}[i])
		if err != nil {
			return err
		}
		if ch >= 0 && len(d.Float) != ch {
			return c.errf("%s has %d values for %d channels", []string{"scale", "B"}[i], len(d.Float), ch)
		}
		shape := append([]int{len(d.Float)}, slices.Repeat([]int{1}, r-2)...)
		k := &tval{name: c.node.Inputs[1+i], konst: &Data{Type: TypeFloat, Shape: shape, Float: d.Float}, dtype: TypeFloat}
		if y, err = c.binary(op, y, k); err != nil {
			return err
		}
	}
	c.setOut(0, y)
	return nil
}

// lrnOp: y = x / (bias + alpha/size * sum of x^2 over size channels)^beta,
// the sum as an average pool over the channel axis of an (N*H*W, C, 1, 1)
// view.
func lrnOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	size, err := c.attrInt("size", 0)
	if err != nil {
		return err
	}
	alpha, err := c.attrFloat("alpha", 1e-4)
	if err != nil {
		return err
	}
	beta, err := c.attrFloat("beta", 0.75)
	if err != nil {
		return err
	}
	bias, err := c.attrFloat("bias", 1)
	if err != nil {
		return err
	}
	if size < 1 {
		return c.errf("size %d", size)
	}
	r := x.rank()
	if r < 3 {
		return c.errf("input of rank %d", r)
	}
	perm := channelsLast(r)
	in, err := c.ref(x, perm)
	if err != nil {
		return err
	}
	shape := c.shapes[in]
	ch := shape[len(shape)-1]
	if ch < 0 {
		return c.errf("the channel count must be known")
	}
	sq, _, err := c.emit1("square", nn.NewMul(), in, in)
	if err != nil {
		return err
	}
	view, _, err := c.emit1("rows", nn.NewReshape(-1, ch, 1, 1), sq)
	if err != nil {
		return err
	}
	lo := int(size-1) / 2
	pool := &nn.AveragePool2D{PoolH: int(size), PoolW: 1, StrideH: 1, StrideW: 1,
		Padding: nn.Padding{Mode: "explicit", Top: lo, Bottom: int(size-1) - lo}, CountIncludePad: true}
	avg, _, err := c.emit1("window", pool, view)
	if err != nil {
		return err
	}
	back, _, err := c.reshapeBack(avg, shape)
	if err != nil {
		return err
	}
	t := c.value(back, shape, perm, x.dtype)
	sameDims(t, x)
	if t, err = c.binary("Mul", t, scalar(c.baseName()+"/alpha", alpha)); err != nil {
		return err
	}
	if t, err = c.binary("Add", t, scalar(c.baseName()+"/bias", bias)); err != nil {
		return err
	}
	if t, err = c.binary("Pow", t, scalar(c.baseName()+"/beta", beta)); err != nil {
		return err
	}
	xs := c.value(in, shape, perm, x.dtype)
	sameDims(xs, x)
	y, err := c.binary("Div", xs, t)
	if err != nil {
		return err
	}
	c.setOut(0, y)
	return nil
}

// reshapeBack reshapes a value to shape, which has at most one unknown
// dimension.
func (c *converter) reshapeBack(ref string, shape []int) (string, []int, error) {
	spec := slices.Clone(shape)
	n := 0
	for i, d := range spec {
		if d < 0 {
			spec[i] = -1
			n++
		}
	}
	if n > 1 {
		return "", nil, c.errf("shape %s has more than one unknown dimension (fix the input sizes with InputShapes)", shapeText(shape))
	}
	return c.emit1("back", nn.NewReshape(spec...), ref)
}

// layerNormOp maps LayerNormalization over the trailing axes to
// nn.LayerNorm (in ONNX order for those axes).
func layerNormOp(c *converter) error {
	x, err := c.need(0)
	if err != nil {
		return err
	}
	axis, err := c.attrInt("axis", -1)
	if err != nil {
		return err
	}
	eps, err := c.attrFloat("epsilon", 1e-5)
	if err != nil {
		return err
	}
	r := x.rank()
	a, err := c.normAxis(axis, r)
	if err != nil {
		return err
	}
	stats := false
	for i := 1; i < len(c.node.Outputs); i++ {
		stats = stats || c.node.Outputs[i] != ""
	}
	if a == 0 || stats {
		return c.layerNormComposed(x, a, eps)
	}
	// Stored layout whose tail is ONNX axes a..r-1 in order.
	p := x.getPerm()
	tailOK := true
	for k := a; k < r; k++ {
		if p[len(p)-(r-k)] != k {
			tailOK = false
		}
	}
	if !tailOK {
		p = identity(r)
	}
	in, err := c.ref(x, p)
	if err != nil {
		return err
	}
	shape := c.shapes[in]
	norm := shape[len(shape)-(r-a):]
	n := 1
	for _, d := range norm {
		if d < 0 {
			return c.errf("the normalised axes %s must be known", shapeText(norm))
		}
		n *= d
	}
	sc, err := c.konstIn(1, "scale")
	if err != nil {
		return err
	}
	gamma, err := broadcastTo(sc, x.onnxShape()[a:])
	if err != nil {
		return c.errf("scale: %v", err)
	}
	beta := tensor.New(x.onnxShape()[a:]...)
	if v, _ := c.in(2); v != nil {
		bd, err := c.konstIn(2, "B")
		if err != nil {
			return err
		}
		if beta, err = broadcastTo(bd, x.onnxShape()[a:]); err != nil {
			return c.errf("B: %v", err)
		}
	}
	if !(eps > 0) {
		eps = 1e-12
	}
	op := nn.NewLayerNorm(eps)
	op.Axes = r - a
	if err := c.withWeights(op, [][]int{shape}, gamma, beta); err != nil {
		return err
	}
	ref, oshape, err := c.emit1("", op, in)
	if err != nil {
		return err
	}
	out := c.value(ref, oshape, p, x.dtype)
	sameDims(out, x)
	c.setOut(0, out)
	return nil
}

// layerNormComposed is LayerNormalization from reductions, with the Mean
// and InvStdDev outputs (and over every axis).
func (c *converter) layerNormComposed(x *tval, a int, eps float32) error {
	var axes []int
	for k := a; k < x.rank(); k++ {
		axes = append(axes, k)
	}
	mean, err := c.reduceVal("ReduceMean", x, axes, true)
	if err != nil {
		return err
	}
	d, err := c.binary("Sub", x, mean)
	if err != nil {
		return err
	}
	sq, err := c.binary("Mul", d, d)
	if err != nil {
		return err
	}
	v, err := c.reduceVal("ReduceMean", sq, axes, true)
	if err != nil {
		return err
	}
	if v, err = c.binary("Add", v, scalar(c.baseName()+"/eps", eps)); err != nil {
		return err
	}
	sd, err := c.unaryVal("sqrt", nn.NewUnaryMath("Sqrt"), v)
	if err != nil {
		return err
	}
	inv, err := c.unaryVal("inv_std", nn.NewUnaryMath("Reciprocal"), sd)
	if err != nil {
		return err
	}
	y, err := c.binary("Mul", d, inv)
	if err != nil {
		return err
	}
	sc, err := c.need(1)
	if err != nil {
		return err
	}
	if y, err = c.binary("Mul", y, sc); err != nil {
		return err
	}
	if b, _ := c.in(2); b != nil {
		if y, err = c.binary("Add", y, b); err != nil {
			return err
		}
	}
	c.setOut(0, y)
	c.setOut(1, mean)
	c.setOut(2, inv)
	return nil
}

// broadcastTo expands a constant to shape (NumPy rules).
func broadcastTo(d *Data, shape []int) (*tensor.Tensor, error) {
	op := nn.NewExpand(shape...)
	outs, err := op.Shapes([][]int{d.Shape})
	if err != nil {
		return nil, err
	}
	if !slices.Equal(outs[0], shape) {
		return nil, errShape(d.Shape, shape)
	}
	y := tensor.New(shape...)
	if err := op.Forward(&nn.Call{}, []*tensor.Tensor{d.Tensor()}, []*tensor.Tensor{y}); err != nil {
		return nil, err
	}
	return y, nil
}

type shapeErr struct{ from, to []int }

func (e *shapeErr) Error() string {
	return "shape " + shapeText(e.from) + " does not broadcast to " + shapeText(e.to)
}

func errShape(from, to []int) error { return &shapeErr{from, to} }
