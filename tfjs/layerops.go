package tfjs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/dlcv-go/dlcv/nn"
)

// layerOp converts one call of a Keras layer on its inputs.
type layerOp func(lc *layerCtx, xs []*nn.Value) (*nn.Value, error)

var layerOps map[string]layerOp

func init() {
	layerOps = map[string]layerOp{
		"InputLayer":             func(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) { return xs[0], nil },
		"Conv2D":                 conv2DLayer,
		"DepthwiseConv2D":        depthwiseLayer,
		"SeparableConv2D":        separableLayer,
		"Dense":                  denseLayer,
		"BatchNormalization":     batchNormLayer,
		"ReLU":                   reluLayer,
		"LeakyReLU":              leakyReLULayer,
		"ELU":                    eluLayer,
		"PReLU":                  preluLayer,
		"Softmax":                softmaxLayer,
		"Activation":             activationLayer,
		"Add":                    mergeLayer,
		"Multiply":               mergeLayer,
		"Subtract":               mergeLayer,
		"Concatenate":            concatLayer,
		"ZeroPadding2D":          zeroPadLayer,
		"MaxPooling2D":           poolLayer,
		"AveragePooling2D":       poolLayer,
		"MaxPool2D":              poolLayer,
		"AvgPool2D":              poolLayer,
		"GlobalAveragePooling2D": globalPoolLayer,
		"GlobalMaxPooling2D":     globalPoolLayer,
		"GlobalAvgPool2D":        globalPoolLayer,
		"GlobalMaxPool2D":        globalPoolLayer,
		"Flatten":                flattenLayer,
		"Reshape":                reshapeLayer,
		"Dropout":                dropoutLayer,
		"UpSampling2D":           upSamplingLayer,
	}
}

// layerCtx is one layer call being converted.
type layerCtx struct {
	c            *lconv
	l            *kerasLayer
	name, prefix string
	cfg          map[string]json.RawMessage
}

// Config accessors: def when the key is absent or null.

func (lc *layerCtx) has(key string) bool {
	v, ok := lc.cfg[key]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

func (lc *layerCtx) get(key string, v any) error {
	if !lc.has(key) {
		return nil
	}
	if err := json.Unmarshal(lc.cfg[key], v); err != nil {
		return fmt.Errorf("config %s: %v", key, err)
	}
	return nil
}

func (lc *layerCtx) str(key, def string) (string, error) {
	s := def
	err := lc.get(key, &s)
	return s, err
}

func (lc *layerCtx) boolean(key string, def bool) (bool, error) {
	b := def
	err := lc.get(key, &b)
	return b, err
}

func (lc *layerCtx) float(key string, def float64) (float64, error) {
	f := flexFloat(def)
	err := lc.get(key, &f)
	return float64(f), err
}

func (lc *layerCtx) integer(key string, def, lo, hi int) (int, error) {
	v := flexInt(def)
	if err := lc.get(key, &v); err != nil {
		return 0, err
	}
	if int64(v) < int64(lo) || int64(v) > int64(hi) {
		return 0, fmt.Errorf("config %s = %d is out of range [%d, %d]", key, v, lo, hi)
	}
	return int(v), nil
}

// pair reads an int or a pair of ints (kernel_size, strides, ...).
func (lc *layerCtx) pair(key string, def int) (int, int, error) {
	if !lc.has(key) {
		return def, def, nil
	}
	var one flexInt
	if json.Unmarshal(lc.cfg[key], &one) == nil {
		if one < 1 || one > 1<<16 {
			return 0, 0, fmt.Errorf("config %s = %d is out of range", key, one)
		}
		return int(one), int(one), nil
	}
	var two []flexInt
	if err := json.Unmarshal(lc.cfg[key], &two); err != nil || len(two) != 2 {
		return 0, 0, fmt.Errorf("config %s = %s, want an integer or two", key, lc.cfg[key])
	}
	for _, v := range two {
		if v < 1 || v > 1<<16 {
			return 0, 0, fmt.Errorf("config %s = %s is out of range", key, lc.cfg[key])
		}
	}
	return int(two[0]), int(two[1]), nil
}

// channelsLast refuses channels_first data.
func (lc *layerCtx) channelsLast() error {
	f, err := lc.str("data_format", "channels_last")
	if err != nil {
		return err
	}
	if f != "channels_last" {
		return unsupported("data_format %s (dlcv is channels_last, NHWC)", f)
	}
	return nil
}

func (lc *layerCtx) trainable() bool {
	t, err := lc.boolean("trainable", true)
	return err != nil || t
}

// weight finds the layer's weight param ("conv1/kernel"): by its full
// name, or as the one weight whose name ends with "/<layer>/<param>"
// (converters prefix nested models' weights with the model's name).
func (lc *layerCtx) weight(param string) (*Weight, error) {
	want := lc.l.Name + "/" + param
	ws := lc.c.weights
	if w, ok := ws[lc.prefix+want]; ok {
		lc.c.used[w.Name] = true
		return w, nil
	}
	if w, ok := ws[want]; ok {
		lc.c.used[w.Name] = true
		return w, nil
	}
	var found *Weight
	for name, w := range ws {
		if strings.HasSuffix(name, "/"+want) {
			if found != nil {
				return nil, fmt.Errorf("weight %q is ambiguous: %q and %q both end with it", want, found.Name, name)
			}
			found = w
		}
	}
	if found == nil {
		return nil, fmt.Errorf("weight %q is not in the weights manifest", want)
	}
	lc.c.used[found.Name] = true
	return found, nil
}

// param queues weight w for op's param, checking its element count.
func (lc *layerCtx) param(op nn.Op, param string, w *Weight, shape []int) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(w.Data) != n {
		return fmt.Errorf("weight %q has shape %v, the layer needs %v", w.Name, w.Shape, shape)
	}
	lc.c.pending = append(lc.c.pending, pendingParam{op: op, param: param, shape: shape, data: w.Data,
		who: fmt.Sprintf("layer %q (%s)", lc.l.Name, lc.l.ClassName), frozen: !lc.trainable()})
	return nil
}

// node adds the layer's node (named after the layer).
func (lc *layerCtx) node(op nn.Op, xs ...*nn.Value) *nn.Value {
	lc.c.taken[lc.name] = true
	return lc.c.g.Node(lc.name, op, xs...).Out(0)
}

// extra adds a second node "<layer>/<suffix>".
func (lc *layerCtx) extra(suffix string, op nn.Op, xs ...*nn.Value) *nn.Value {
	name := lc.name + "/" + suffix
	for k := 1; lc.c.taken[name]; k++ {
		name = fmt.Sprintf("%s/%s_%d", lc.name, suffix, k)
	}
	lc.c.taken[name] = true
	return lc.c.g.Node(name, op, xs...).Out(0)
}

// activation maps a Keras activation name: an epilogue act when it has
// one that trains (its derivative follows from the output), else an op.
func activation(name string) (nn.Act, nn.Op, error) {
	switch name {
	case "", "linear":
		return nn.Act{}, nil, nil
	case "relu":
		return nn.Act{Kind: "relu"}, nil, nil
	case "relu6":
		return nn.Act{Kind: "clip", Min: 0, Max: 6}, nil, nil
	case "sigmoid":
		return nn.Act{Kind: "sigmoid"}, nil, nil
	case "tanh":
		return nn.Act{Kind: "tanh"}, nil, nil
	case "softmax":
		return nn.Act{}, &nn.Softmax{Axis: -1}, nil
	case "elu":
		return nn.Act{}, nn.NewELU(1), nil
	case "swish", "silu":
		return nn.Act{}, nn.NewSiLU(), nil
	case "hard_sigmoid":
		// Keras 2 and TF.js: clip(0.2x + 0.5, 0, 1).
		return nn.Act{}, &nn.HardSigmoid{Alpha: 0.2, Beta: 0.5}, nil
	case "hard_swish", "hard_silu":
		return nn.Act{}, nn.NewHardSwish(), nil
	case "gelu":
		return nn.Act{}, nn.NewGELU(""), nil
	case "leaky_relu":
		return nn.Act{Kind: "leaky_relu", Alpha: 0.2}, nil, nil
	}
	return nn.Act{}, nil, unsupported("activation %q", name)
}

// activated reads the layer's activation, sets the epilogue through set
// and returns the layer's output (after an extra activation node when
// the activation has no epilogue).
func (lc *layerCtx) activated(set func(nn.Act), build func() *nn.Value) (*nn.Value, error) {
	name, err := lc.str("activation", "linear")
	if err != nil {
		return nil, err
	}
	act, op, err := activation(name)
	if err != nil {
		return nil, err
	}
	set(act)
	y := build()
	if op != nil {
		y = lc.extra(name, op, y)
	}
	return y, nil
}

// convPadding maps Keras' padding.
func (lc *layerCtx) convPadding() (nn.Padding, error) {
	p, err := lc.str("padding", "valid")
	if err != nil {
		return nn.Padding{}, err
	}
	switch p {
	case "valid":
		return nn.Valid, nil
	case "same":
		return nn.Same, nil
	}
	return nn.Padding{}, unsupported("padding %q (want valid or same)", p)
}

// convCommon reads what Conv2D, DepthwiseConv2D and SeparableConv2D share.
type convCfg struct {
	kh, kw, sh, sw, dh, dw int
	pad                    nn.Padding
	bias                   bool
}

func (lc *layerCtx) convCommon(x *nn.Value) (convCfg, error) {
	var k convCfg
	if err := lc.channelsLast(); err != nil {
		return k, err
	}
	if len(x.Shape()) != 4 {
		return k, fmt.Errorf("input shape %v, want (batch, height, width, channels)", x.Shape())
	}
	var err error
	if k.kh, k.kw, err = lc.pair("kernel_size", 1); err != nil {
		return k, err
	}
	if k.sh, k.sw, err = lc.pair("strides", 1); err != nil {
		return k, err
	}
	if k.dh, k.dw, err = lc.pair("dilation_rate", 1); err != nil {
		return k, err
	}
	if k.pad, err = lc.convPadding(); err != nil {
		return k, err
	}
	k.bias, err = lc.boolean("use_bias", true)
	return k, err
}

func single(xs []*nn.Value) error {
	if len(xs) != 1 {
		return fmt.Errorf("called on %d inputs, takes 1", len(xs))
	}
	return nil
}

func conv2DLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	x := xs[0]
	k, err := lc.convCommon(x)
	if err != nil {
		return nil, err
	}
	filters, err := lc.integer("filters", 0, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	groups, err := lc.integer("groups", 1, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	cin := lastDim(x.Shape())
	if cin < 1 || cin%groups != 0 {
		return nil, fmt.Errorf("input channels %d and groups %d", cin, groups)
	}
	op := &nn.Conv2D{Filters: filters, KernelH: k.kh, KernelW: k.kw, StrideH: k.sh, StrideW: k.sw,
		Padding: k.pad, UseBias: k.bias, Groups: groups, DilationH: k.dh, DilationW: k.dw}
	y, err := lc.activated(func(a nn.Act) { op.Act = a }, func() *nn.Value { return lc.node(op, x) })
	if err != nil {
		return nil, err
	}
	if err := lc.weights(op, "kernel", []int{k.kh, k.kw, cin / groups, filters}, k.bias, filters); err != nil {
		return nil, err
	}
	return y, nil
}

// weights queues the kernel (and the bias) of a convolution or dense op.
func (lc *layerCtx) weights(op nn.Op, kernel string, shape []int, bias bool, units int) error {
	w, err := lc.weight(kernel)
	if err != nil {
		return err
	}
	if err := lc.param(op, "kernel", w, shape); err != nil {
		return err
	}
	if bias {
		b, err := lc.weight("bias")
		if err != nil {
			return err
		}
		if err := lc.param(op, "bias", b, []int{units}); err != nil {
			return err
		}
	}
	return nil
}

func depthwiseLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	x := xs[0]
	k, err := lc.convCommon(x)
	if err != nil {
		return nil, err
	}
	m, err := lc.integer("depth_multiplier", 1, 1, 1<<16)
	if err != nil {
		return nil, err
	}
	c := lastDim(x.Shape())
	op := &nn.DepthwiseConv2D{KernelH: k.kh, KernelW: k.kw, StrideH: k.sh, StrideW: k.sw, Padding: k.pad,
		DepthMultiplier: m, DilationH: k.dh, DilationW: k.dw, UseBias: k.bias}
	y, err := lc.activated(func(a nn.Act) { op.Act = a }, func() *nn.Value { return lc.node(op, x) })
	if err != nil {
		return nil, err
	}
	if err := lc.weights(op, "depthwise_kernel", []int{k.kh, k.kw, c, m}, k.bias, c*m); err != nil {
		return nil, err
	}
	return y, nil
}

// separableLayer is a depthwise convolution "<layer>/depthwise" followed
// by a 1x1 convolution (the layer's node, with the bias and activation).
func separableLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	x := xs[0]
	k, err := lc.convCommon(x)
	if err != nil {
		return nil, err
	}
	m, err := lc.integer("depth_multiplier", 1, 1, 1<<16)
	if err != nil {
		return nil, err
	}
	filters, err := lc.integer("filters", 0, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	c := lastDim(x.Shape())
	dw := &nn.DepthwiseConv2D{KernelH: k.kh, KernelW: k.kw, StrideH: k.sh, StrideW: k.sw, Padding: k.pad,
		DepthMultiplier: m, DilationH: k.dh, DilationW: k.dw}
	h := lc.extra("depthwise", dw, x)
	w, err := lc.weight("depthwise_kernel")
	if err != nil {
		return nil, err
	}
	if err := lc.param(dw, "kernel", w, []int{k.kh, k.kw, c, m}); err != nil {
		return nil, err
	}
	pw := &nn.Conv2D{Filters: filters, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, Padding: nn.Valid, UseBias: k.bias}
	y, err := lc.activated(func(a nn.Act) { pw.Act = a }, func() *nn.Value { return lc.node(pw, h) })
	if err != nil {
		return nil, err
	}
	if err := lc.weights(pw, "pointwise_kernel", []int{1, 1, c * m, filters}, k.bias, filters); err != nil {
		return nil, err
	}
	return y, nil
}

func denseLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	x := xs[0]
	units, err := lc.integer("units", 0, 1, 1<<24)
	if err != nil {
		return nil, err
	}
	bias, err := lc.boolean("use_bias", true)
	if err != nil {
		return nil, err
	}
	in := lastDim(x.Shape())
	if in < 1 {
		return nil, fmt.Errorf("input shape %v: the feature count must be known", x.Shape())
	}
	op := &nn.Dense{Units: units, UseBias: bias}
	y, err := lc.activated(func(a nn.Act) { op.Act = a }, func() *nn.Value { return lc.node(op, x) })
	if err != nil {
		return nil, err
	}
	if err := lc.weights(op, "kernel", []int{in, units}, bias, units); err != nil {
		return nil, err
	}
	return y, nil
}

func batchNormLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	x := xs[0]
	r := len(x.Shape())
	var axis any
	if err := lc.get("axis", &axis); err != nil {
		return nil, err
	}
	ax := -1
	switch a := axis.(type) {
	case nil:
	case float64:
		ax = int(a)
	case []any:
		if len(a) != 1 {
			return nil, unsupported("BatchNormalization over axes %v (dlcv normalises the last axis)", a)
		}
		f, _ := a[0].(float64)
		ax = int(f)
	default:
		return nil, fmt.Errorf("config axis %v", axis)
	}
	if ax != -1 && ax != r-1 {
		return nil, unsupported("BatchNormalization over axis %d of a rank-%d input (dlcv normalises the last axis)", ax, r)
	}
	eps, err := lc.float("epsilon", 1e-3)
	if err != nil {
		return nil, err
	}
	mom, err := lc.float("momentum", 0.99)
	if err != nil {
		return nil, err
	}
	if !(eps > 0) || math.IsInf(eps, 0) || !(mom >= 0 && mom < 1) {
		return nil, unsupported("epsilon %v and momentum %v (want epsilon > 0, momentum in [0, 1))", eps, mom)
	}
	center, err := lc.boolean("center", true)
	if err != nil {
		return nil, err
	}
	scale, err := lc.boolean("scale", true)
	if err != nil {
		return nil, err
	}
	op := nn.NewBatchNorm(float32(mom), float32(eps))
	// Keras runs a non-trainable BatchNormalization in inference mode.
	op.Frozen = !lc.trainable()
	y := lc.node(op, x)
	ch := lastDim(x.Shape())
	if ch < 1 {
		return nil, fmt.Errorf("input shape %v: the channel count must be known", x.Shape())
	}
	for _, p := range []struct {
		name string
		on   bool
		fill float32
	}{{"gamma", scale, 1}, {"beta", center, 0}, {"moving_mean", true, 0}, {"moving_variance", true, 1}} {
		var w *Weight
		if p.on {
			if w, err = lc.weight(p.name); err != nil {
				return nil, err
			}
		} else { // center or scale off: a fixed shift or scale
			w = &Weight{Name: p.name, Shape: []int{ch}, Data: make([]float32, ch)}
			for i := range w.Data {
				w.Data[i] = p.fill
			}
		}
		if err := lc.param(op, p.name, w, []int{ch}); err != nil {
			return nil, err
		}
		if !p.on {
			lc.c.pending[len(lc.c.pending)-1].frozen = true
		}
	}
	return y, nil
}

func reluLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	var maxv *float64
	if err := lc.get("max_value", &maxv); err != nil {
		return nil, err
	}
	slope, err := lc.float("negative_slope", 0)
	if err != nil {
		return nil, err
	}
	th, err := lc.float("threshold", 0)
	if err != nil {
		return nil, err
	}
	if th != 0 {
		return nil, unsupported("ReLU threshold %v", th)
	}
	var op nn.Op
	switch {
	case slope != 0 && maxv != nil:
		return nil, unsupported("ReLU with both negative_slope %v and max_value %v", slope, *maxv)
	case slope != 0:
		op = nn.NewLeakyReLU(float32(slope))
	case maxv == nil:
		op = nn.NewReLU()
	case *maxv == 6:
		op = nn.NewReLU6()
	case *maxv > 0 && !math.IsInf(*maxv, 0):
		op = nn.NewClip(0, float32(*maxv))
	default:
		return nil, unsupported("ReLU max_value %v", *maxv)
	}
	return lc.node(op, xs[0]), nil
}

func leakyReLULayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	a, err := lc.float("alpha", 0.3) // Keras 2's default
	if err != nil {
		return nil, err
	}
	if lc.has("negative_slope") { // Keras 3
		if a, err = lc.float("negative_slope", 0.3); err != nil {
			return nil, err
		}
	}
	return lc.node(nn.NewLeakyReLU(float32(a)), xs[0]), nil
}

func eluLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	a, err := lc.float("alpha", 1)
	if err != nil {
		return nil, err
	}
	return lc.node(nn.NewELU(float32(a)), xs[0]), nil
}

// preluLayer: a learned slope per channel (alpha shared over height and
// width, Keras' shared_axes [1, 2]), or one slope.
func preluLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	x := xs[0]
	w, err := lc.weight("alpha")
	if err != nil {
		return nil, err
	}
	ch := lastDim(x.Shape())
	var op *nn.PReLU
	switch len(w.Data) {
	case 1:
		op = nn.NewPReLU(true)
	case ch:
		op = nn.NewPReLU(false)
	default:
		return nil, unsupported("PReLU alpha of shape %v on input %v (want one slope per channel: shared_axes over all but the channels)", w.Shape, x.Shape())
	}
	y := lc.node(op, x)
	if err := lc.param(op, "alpha", w, []int{len(w.Data)}); err != nil {
		return nil, err
	}
	return y, nil
}

func softmaxLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	axis, err := lc.integer("axis", -1, -8, 8)
	if err != nil {
		return nil, err
	}
	if axis == 0 {
		return nil, unsupported("Softmax over the batch axis")
	}
	return lc.node(&nn.Softmax{Axis: axis}, xs[0]), nil
}

func activationLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	name, err := lc.str("activation", "linear")
	if err != nil {
		return nil, err
	}
	act, op, err := activation(name)
	if err != nil {
		return nil, err
	}
	if op == nil {
		switch act.Kind {
		case "":
			return xs[0], nil
		case "relu":
			op = nn.NewReLU()
		case "clip":
			op = nn.NewReLU6()
		case "sigmoid":
			op = nn.NewSigmoid()
		case "tanh":
			op = nn.NewTanh()
		case "leaky_relu":
			op = nn.NewLeakyReLU(act.Alpha)
		}
	}
	return lc.node(op, xs[0]), nil
}

// mergeLayer: Add and Multiply of any number of inputs (a chain), and
// Subtract of two.
func mergeLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if len(xs) < 2 {
		return nil, fmt.Errorf("called on %d inputs, takes 2 or more", len(xs))
	}
	mk := func() nn.Op {
		switch lc.l.ClassName {
		case "Multiply":
			return nn.NewMul()
		case "Subtract":
			return nn.NewSub()
		}
		return nn.NewAdd()
	}
	if lc.l.ClassName == "Subtract" && len(xs) != 2 {
		return nil, fmt.Errorf("Subtract called on %d inputs, takes 2", len(xs))
	}
	y := xs[0]
	for i := 1; i < len(xs); i++ {
		if i == len(xs)-1 {
			y = lc.node(mk(), y, xs[i])
		} else {
			y = lc.extra(fmt.Sprintf("part_%d", i), mk(), y, xs[i])
		}
	}
	return y, nil
}

func concatLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	axis, err := lc.integer("axis", -1, -8, 8)
	if err != nil {
		return nil, err
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return lc.node(nn.NewConcat(axis), xs...), nil
}

// zeroPadLayer: padding is an int, (rows, cols) or ((top, bottom), (left,
// right)).
func zeroPadLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	if err := lc.channelsLast(); err != nil {
		return nil, err
	}
	var t, b, l, r int
	raw := lc.cfg["padding"]
	var one flexInt
	var two []flexInt
	var four [][]flexInt
	switch {
	case !lc.has("padding"):
		t, b, l, r = 1, 1, 1, 1
	case json.Unmarshal(raw, &one) == nil:
		t, b, l, r = int(one), int(one), int(one), int(one)
	case json.Unmarshal(raw, &two) == nil && len(two) == 2:
		t, b, l, r = int(two[0]), int(two[0]), int(two[1]), int(two[1])
	case json.Unmarshal(raw, &four) == nil && len(four) == 2 && len(four[0]) == 2 && len(four[1]) == 2:
		t, b, l, r = int(four[0][0]), int(four[0][1]), int(four[1][0]), int(four[1][1])
	default:
		return nil, fmt.Errorf("config padding %s", raw)
	}
	for _, v := range []int{t, b, l, r} {
		if v < 0 || v > 1<<16 {
			return nil, fmt.Errorf("config padding %s is out of range", raw)
		}
	}
	if len(xs[0].Shape()) != 4 {
		return nil, fmt.Errorf("input shape %v, want (batch, height, width, channels)", xs[0].Shape())
	}
	return lc.node(nn.NewPad("constant", 0, t, l, 0, 0, b, r, 0), xs[0]), nil
}

func poolLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	if err := lc.channelsLast(); err != nil {
		return nil, err
	}
	ph, pw, err := lc.pair("pool_size", 2)
	if err != nil {
		return nil, err
	}
	sh, sw, err := lc.pair("strides", 0)
	if err != nil {
		return nil, err
	}
	if sh == 0 {
		sh, sw = ph, pw
	}
	pad, err := lc.convPadding()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(lc.l.ClassName, "Max") {
		return lc.node(&nn.MaxPool2D{PoolH: ph, PoolW: pw, StrideH: sh, StrideW: sw, Padding: pad}, xs[0]), nil
	}
	return lc.node(&nn.AveragePool2D{PoolH: ph, PoolW: pw, StrideH: sh, StrideW: sw, Padding: pad}, xs[0]), nil
}

func globalPoolLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	if err := lc.channelsLast(); err != nil {
		return nil, err
	}
	keep, err := lc.boolean("keepdims", false)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(lc.l.ClassName, "GlobalMax") {
		return lc.node(&nn.GlobalMaxPool{KeepDims: keep}, xs[0]), nil
	}
	return lc.node(&nn.GlobalAveragePool{KeepDims: keep}, xs[0]), nil
}

func flattenLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	if err := lc.channelsLast(); err != nil {
		return nil, err
	}
	return lc.node(nn.NewFlatten(), xs[0]), nil
}

func reshapeLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	var target []flexInt
	if err := lc.get("target_shape", &target); err != nil {
		return nil, err
	}
	if len(target) == 0 {
		return nil, fmt.Errorf("config target_shape is missing")
	}
	shape := []int{0} // the batch axis is copied
	for _, d := range target {
		if d == 0 || d < -1 || d > 1<<24 {
			return nil, fmt.Errorf("config target_shape %v", target)
		}
		shape = append(shape, int(d))
	}
	return lc.node(nn.NewReshape(shape...), xs[0]), nil
}

func dropoutLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	rate, err := lc.float("rate", 0.5)
	if err != nil {
		return nil, err
	}
	if !(rate >= 0 && rate < 1) {
		return nil, fmt.Errorf("config rate %v, want [0, 1)", rate)
	}
	if lc.has("noise_shape") {
		return nil, unsupported("Dropout with a noise_shape")
	}
	return lc.node(nn.NewDropout(float32(rate)), xs[0]), nil
}

// upSamplingLayer: TF.js's UpSampling2D repeats pixels (nearest) or
// resizes bilinearly without half-pixel centres.
func upSamplingLayer(lc *layerCtx, xs []*nn.Value) (*nn.Value, error) {
	if err := single(xs); err != nil {
		return nil, err
	}
	if err := lc.channelsLast(); err != nil {
		return nil, err
	}
	sh, sw, err := lc.pair("size", 2)
	if err != nil {
		return nil, err
	}
	interp, err := lc.str("interpolation", "nearest")
	if err != nil {
		return nil, err
	}
	op := &nn.Resize{Scales: []float32{float32(sh), float32(sw)}, CoordinateMode: "asymmetric"}
	switch interp {
	case "nearest":
		op.Mode, op.NearestMode = "nearest", "floor"
	case "bilinear":
		op.Mode = "bilinear"
	default:
		return nil, unsupported("UpSampling2D interpolation %q", interp)
	}
	return lc.node(op, xs[0]), nil
}
