// Writes tiny_models.json.gz: small TF.js graph models (GraphDef JSON
// written here node by node, one or a few ops each) and layers models
// (built with tf.sequential / tf.model and saved with model.save), some
// with uint8/uint16/float16-quantized weights, with random inputs and the
// outputs TensorFlow.js 4 (wasm backend) computes for them. The Go tests
// (tiny_test.go) import each model and compare.
//
//   node tfjs/testdata/gen_tiny.js     (from the repository root)
'use strict';
const path = require('path');
const { tf, ready, rng, numel, f32, writeGz, artifacts } = require('./common');

// ---- weight encoding, as tensorflowjs_converter writes it ----

function float16(v) { // float32 -> IEEE half, round to nearest even
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mant | 0x800000) >>> 0, shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

// encode returns the stored bytes of values and the spec's quantization.
function encode(values, dtype, quant) {
  const n = values.length;
  if (!quant || dtype !== 'float32') {
    if (dtype === 'int32') return { bytes: Buffer.from(Int32Array.from(values).buffer) };
    return { bytes: Buffer.from(Float32Array.from(values).buffer) };
  }
  if (quant === 'float16') {
    const h = new Uint16Array(n);
    for (let i = 0; i < n; i++) h[i] = float16(values[i]);
    return { bytes: Buffer.from(h.buffer), quantization: { dtype: 'float16' } };
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const levels = quant === 'uint8' ? 255 : 65535;
  const scale = hi > lo ? (hi - lo) / levels : 1;
  const q = quant === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) q[i] = Math.round((values[i] - lo) / scale);
  return { bytes: Buffer.from(q.buffer), quantization: { dtype: quant, scale, min: lo } };
}

// ---- GraphDef JSON builder ----

const S = s => ({ s: Buffer.from(s).toString('base64') });
const I = i => ({ i: String(i) });
const F = f => ({ f });
const B = b => ({ b });
const T = t => ({ type: t });
const LI = l => ({ list: { i: l.map(String) } });
const LS = l => ({ list: { s: l.map(s => Buffer.from(s).toString('base64')) } });
const dims = s => ({ dim: s.map(d => ({ size: String(d) })) });

class Graph {
  constructor(seed, quant) { this.r = rng(seed); this.nodes = []; this.specs = []; this.bufs = []; this.quant = quant; this.inputs = []; }
  input(name, shape) {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: T('DT_FLOAT'), shape: { shape: dims(shape) } } });
    this.inputs.push({ name, shape });
    return name;
  }
  konst(name, shape, values, dtype = 'float32') {
    if (values === undefined) values = Array.from(this.r.floats(numel(shape)));
    const { bytes, quantization } = encode(values, dtype, dtype === 'float32' ? this.quant : undefined);
    const spec = { name, shape, dtype };
    if (quantization) spec.quantization = quantization;
    this.specs.push(spec);
    this.bufs.push(bytes);
    const tt = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', attr: { dtype: T(tt), value: { tensor: { dtype: tt, tensorShape: dims(shape) } } } });
    return name;
  }
  ints(name, values) { return this.konst(name, values.length === 1 && !Array.isArray(values[0]) ? [values.length] : [values.length], values, 'int32'); }
  scalarInt(name, v) { return this.konst(name, [], [v], 'int32'); }
  op(name, op, input, attr = {}) {
    this.nodes.push({ name, op, input, attr: Object.assign({ T: T('DT_FLOAT') }, attr) });
    return name;
  }
  model(outputs) {
    const m = {
      format: 'graph-model', generatedBy: 'dlcv tfjs/testdata/gen_tiny.js', convertedBy: null,
      modelTopology: { node: this.nodes, library: {}, versions: { producer: 1286 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.specs }],
    };
    if (outputs) {
      const o = {};
      for (const n of outputs) { const t = n.includes(':') ? n : n + ':0'; o[t] = { name: t, dtype: 'DT_FLOAT' }; }
      m.signature = { outputs: o };
    }
    return { model: m, shards: { 'weights.bin': Buffer.concat(this.bufs) } };
  }
}

const conv = (strides, pad, extra = {}) => Object.assign({ strides: LI([1, strides, strides, 1]), padding: S(pad), data_format: S('NHWC'), dilations: LI([1, 1, 1, 1]) }, extra);

// ---- the cases ----

const graphCases = [];
function gcase(name, build, quant) { graphCases.push({ name, build, quant }); }

for (const [act, extra] of [['Relu', {}], ['Relu6', {}], ['Elu', {}], ['Sigmoid', {}], ['LeakyRelu', { leakyrelu_alpha: F(0.15) }]]) {
  gcase('fused_conv_' + act.toLowerCase(), g => {
    const x = g.input('x', [2, 7, 6, 3]);
    const w = g.konst('w', [3, 3, 3, 4]), b = g.konst('b', [4]);
    return [g.op('y', '_FusedConv2D', [x, w, b], Object.assign(conv(act === 'Relu' ? 1 : 2, act === 'Elu' ? 'VALID' : 'SAME'), { fused_ops: LS(['BiasAdd', act]), num_args: I(1), epsilon: F(0) }, extra))];
  });
}
gcase('fused_conv_prelu', g => {
  const x = g.input('x', [1, 6, 6, 3]);
  const w = g.konst('w', [3, 3, 3, 5]), b = g.konst('b', [5]), a = g.konst('alpha', [5]);
  return [g.op('y', '_FusedConv2D', [x, w, b, a], Object.assign(conv(1, 'SAME'), { fused_ops: LS(['BiasAdd', 'Prelu']), num_args: I(2) }))];
});
gcase('fused_conv_dilated_explicit', g => {
  const x = g.input('x', [1, 9, 8, 2]);
  const w = g.konst('w', [3, 2, 2, 3]), b = g.konst('b', [3]);
  const y = g.op('y1', '_FusedConv2D', [x, w, b], Object.assign(conv(1, 'SAME', { dilations: LI([1, 2, 2, 1]) }), { fused_ops: LS(['BiasAdd']), num_args: I(1) }));
  const w2 = g.konst('w2', [2, 2, 3, 2]), b2 = g.konst('b2', [2]);
  return [g.op('y', '_FusedConv2D', [y, w2, b2], Object.assign(conv(2, 'EXPLICIT', { explicit_paddings: LI([0, 0, 1, 0, 2, 1, 0, 0]) }), { fused_ops: LS(['BiasAdd', 'Relu']), num_args: I(1) }))];
});
gcase('conv2d_plain', g => {
  const x = g.input('x', [1, 5, 5, 4]);
  return [g.op('y', 'Conv2D', [x, g.konst('w', [1, 1, 4, 3])], conv(1, 'VALID'))];
});
gcase('depthwise', g => {
  const x = g.input('x', [2, 8, 7, 3]);
  const y = g.op('d1', 'DepthwiseConv2dNative', [x, g.konst('w', [3, 3, 3, 2])], conv(2, 'SAME'));
  return [g.op('y', 'FusedDepthwiseConv2dNative', [y, g.konst('w2', [3, 3, 6, 1]), g.konst('b2', [6])], Object.assign(conv(1, 'SAME'), { fused_ops: LS(['BiasAdd', 'Relu6']), num_args: I(1) }))];
});
for (const q of ['uint8', 'uint16', 'float16']) {
  gcase('quant_' + q, g => {
    const x = g.input('x', [1, 6, 6, 3]);
    const y = g.op('c', '_FusedConv2D', [x, g.konst('w', [3, 3, 3, 4]), g.konst('b', [4])], Object.assign(conv(1, 'SAME'), { fused_ops: LS(['BiasAdd', 'Relu']), num_args: I(1) }));
    return [g.op('y', 'DepthwiseConv2dNative', [y, g.konst('dw', [3, 3, 4, 1])], conv(1, 'SAME'))];
  }, q);
}
gcase('matmul', g => {
  const x = g.input('x', [3, 5]);
  const y = g.op('d', '_FusedMatMul', [x, g.konst('w', [4, 5]), g.konst('b', [4])], { transpose_a: B(false), transpose_b: B(true), fused_ops: LS(['BiasAdd', 'Relu']), num_args: I(1) });
  const z = g.op('d2', 'MatMul', [y, g.konst('w2', [4, 2])], { transpose_a: B(false), transpose_b: B(false) });
  const x2 = g.input('x2', [2, 6]);
  return [y, z, g.op('mm', 'MatMul', [z, x2], { transpose_a: B(false), transpose_b: B(false) })];
});
gcase('arithmetic', g => {
  const x = g.input('x', [2, 3, 4, 5]);
  const a = g.op('a', 'AddV2', [x, g.konst('c1', [5])]);
  const b = g.op('b', 'Sub', [g.konst('c2', [4, 1]), a]);
  const c = g.op('c', 'Mul', [b, g.konst('c3', [])]);
  const d = g.op('d', 'RealDiv', [c, g.konst('c4', [3, 1, 5], Array.from(g.r.floats(15, 0.5, 2)))]);
  const e = g.op('e', 'BiasAdd', [d, g.konst('c5', [5])], { data_format: S('NHWC') });
  const f = g.op('f', 'Add', [e, x]);
  return [g.op('y', 'AddN', [f, x, e], { N: I(3) })];
});
gcase('floordiv_floormod', g => {
  const x = g.input('x', [2, 6]);
  const k = g.konst('k', [6], [3, -3, 2.5, 7, -2, 4]);
  return [g.op('q', 'FloorDiv', [x, k]), g.op('m', 'FloorMod', [x, k])];
});
gcase('activations', g => {
  const x = g.input('x', [2, 3, 4]);
  const outs = [];
  for (const [op, attr] of [['Relu', {}], ['Relu6', {}], ['Elu', {}], ['Sigmoid', {}], ['Tanh', {}], ['LeakyRelu', { alpha: F(0.3) }], ['Softmax', {}]]) {
    outs.push(g.op(op.toLowerCase(), op, [g.op(op + '_in', 'Mul', [x, g.konst(op + '_k', [], [4])])], attr));
  }
  outs.push(g.op('prelu', 'Prelu', [x, g.konst('alpha', [4])]));
  return outs;
});
gcase('reductions', g => {
  const x = g.input('x', [2, 5, 4, 3]);
  return [
    g.op('gap', 'Mean', [x, g.ints('ax12', [1, 2])], { keep_dims: B(true), Tidx: T('DT_INT32') }),
    g.op('mean3', 'Mean', [x, g.scalarInt('ax3', -1)], { keep_dims: B(false), Tidx: T('DT_INT32') }),
    g.op('sum', 'Sum', [x, g.ints('ax02', [0, 2])], { keep_dims: B(false), Tidx: T('DT_INT32') }),
    g.op('max', 'Max', [x, g.ints('ax1', [1])], { keep_dims: B(true), Tidx: T('DT_INT32') }),
  ];
});
gcase('pools', g => {
  const x = g.input('x', [2, 7, 8, 3]);
  const pool = (s, k, p) => ({ ksize: LI([1, k, k, 1]), strides: LI([1, s, s, 1]), padding: S(p), data_format: S('NHWC') });
  return [
    g.op('max_same', 'MaxPool', [x], pool(2, 3, 'SAME')),
    g.op('max_valid', 'MaxPool', [x], pool(2, 2, 'VALID')),
    g.op('max_s1', 'MaxPool', [x], pool(1, 3, 'SAME')),
    g.op('avg_same', 'AvgPool', [x], pool(2, 3, 'SAME')),
    g.op('avg_valid', 'AvgPool', [x], pool(1, 2, 'VALID')),
  ];
});
gcase('pads', g => {
  const x = g.input('x', [1, 4, 5, 3]);
  const p = g.konst('p', [4, 2], [0, 0, 1, 2, 0, 1, 0, 3], 'int32');
  return [
    g.op('pad', 'Pad', [x, p], { Tpaddings: T('DT_INT32') }),
    g.op('padv2', 'PadV2', [x, p, g.konst('v', [], [0.5])], { Tpaddings: T('DT_INT32') }),
    g.op('mirror', 'MirrorPad', [x, g.konst('p2', [4, 2], [0, 0, 2, 1, 1, 3, 0, 0], 'int32')], { mode: S('REFLECT'), Tpaddings: T('DT_INT32') }),
  ];
});
gcase('shapes', g => {
  const x = g.input('x', [2, 3, 4, 5]);
  const x2 = g.input('x2', [2, 3, 4, 2]);
  const c = g.op('concat', 'ConcatV2', [x, x2, g.scalarInt('axis', -1)], { N: I(2), Tidx: T('DT_INT32') });
  const c1 = g.op('concat1', 'ConcatV2', [x, x, g.scalarInt('axis1', 1)], { N: I(2), Tidx: T('DT_INT32') });
  const r = g.op('reshape', 'Reshape', [c, g.ints('shape', [2, -1, 7])], { Tshape: T('DT_INT32') });
  const e = g.op('expand', 'ExpandDims', [r, g.scalarInt('dim', -2)], { Tdim: T('DT_INT32') });
  const s = g.op('squeeze', 'Squeeze', [e], { squeeze_dims: LI([2]) });
  const t = g.op('transpose', 'Transpose', [c1, g.ints('perm', [0, 3, 1, 2])], { Tperm: T('DT_INT32') });
  const id = g.op('ident', 'Identity', [t]);
  return [s, id, g.op('transpose2', 'Transpose', [x, g.ints('perm2', [2, 0, 3, 1])], { Tperm: T('DT_INT32') })];
});
for (const [op, h, w] of [['ResizeBilinear', 9, 11], ['ResizeBilinear', 3, 4], ['ResizeNearestNeighbor', 9, 11], ['ResizeNearestNeighbor', 3, 4]]) {
  gcase(`${op.toLowerCase()}_${h}x${w}`, g => {
    const x = g.input('x', [2, 5, 7, 3]);
    const size = g.ints('size', [h, w]);
    return [
      g.op('asym', op, [x, size], { align_corners: B(false), half_pixel_centers: B(false) }),
      g.op('corners', op, [x, size], { align_corners: B(true), half_pixel_centers: B(false) }),
      g.op('half', op, [x, size], { align_corners: B(false), half_pixel_centers: B(true) }),
    ];
  });
}
gcase('strided_slice', g => {
  const x = g.input('x', [2, 6, 5, 4]);
  const ss = (name, b, e, s, masks) => g.op(name, 'StridedSlice', [x, g.ints(name + '/b', b), g.ints(name + '/e', e), g.ints(name + '/s', s)],
    Object.assign({ begin_mask: I(0), end_mask: I(0), ellipsis_mask: I(0), new_axis_mask: I(0), shrink_axis_mask: I(0), Index: T('DT_INT32') }, masks));
  return [
    ss('centernet', [0, 0, 0, 1], [0, 0, 0, 2], [1, 1, 1, 1], { begin_mask: I(7), end_mask: I(7) }),
    ss('neg', [0, -4, 1], [0, -1, 100], [1, 1, 1], { begin_mask: I(1), end_mask: I(1) }),
    ss('shrink', [0, 2], [0, 3], [1, 1], { begin_mask: I(1), end_mask: I(1), shrink_axis_mask: I(2) }),
    ss('ellipsis', [0, 1], [0, 3], [1, 1], { ellipsis_mask: I(1) }),
    ss('newaxis', [0, 0, 1], [0, 0, 4], [1, 1, 1], { begin_mask: I(1), end_mask: I(1), new_axis_mask: I(2) }),
    ss('shrink_last', [0, -1], [0, 0], [1, 1], { ellipsis_mask: I(1), shrink_axis_mask: I(2) }),
  ];
});
gcase('cast_batchnorm', g => {
  const x = g.input('x', [2, 3, 3, 4]);
  const c = g.op('cast', 'Cast', [g.konst('ints', [4], [1, -2, 3, 4], 'int32')], { SrcT: T('DT_INT32'), DstT: T('DT_FLOAT'), Truncate: B(false) });
  delete g.nodes[g.nodes.length - 1].attr.T;
  const a = g.op('a', 'AddV2', [x, c]);
  const bn = g.op('bn', 'FusedBatchNormV3', [a, g.konst('gamma', [4]), g.konst('beta', [4]), g.konst('mean', [4]), g.konst('var', [4], Array.from(g.r.floats(4, 0.5, 2)))],
    { epsilon: F(0.001), is_training: B(false), data_format: S('NHWC'), U: T('DT_FLOAT') });
  return [g.op('y', 'Relu', [bn])];
});

gcase('strided_slice_steps', g => {
  const x = g.input('x', [2, 7, 6, 3]);
  const ss = (name, b, e, s, masks) => g.op(name, 'StridedSlice', [x, g.ints(name + '/b', b), g.ints(name + '/e', e), g.ints(name + '/s', s)],
    Object.assign({ begin_mask: I(0), end_mask: I(0), ellipsis_mask: I(0), new_axis_mask: I(0), shrink_axis_mask: I(0), Index: T('DT_INT32') }, masks));
  return [
    ss('step2', [0, 1, 0], [0, 7, 6], [1, 2, 3], { begin_mask: I(1), end_mask: I(1) }),
    ss('reverse', [0, -1, 0], [0, 0, 0], [1, -1, 1], { begin_mask: I(5), end_mask: I(7) }),
    ss('reverse_all', [0, 0], [0, 0], [1, -2], { begin_mask: I(3), end_mask: I(3), ellipsis_mask: I(1) }),
    ss('reverse_mid', [0, 5, 4], [0, 1, 0], [1, -2, -1], { begin_mask: I(1), end_mask: I(1) }),
  ];
});
gcase('index_ops', g => {
  const x = g.input('x', [3, 10]);
  const tk = g.op('topk', 'TopKV2', [x, g.scalarInt('k', 4)], { sorted: B(true) });
  const idx = g.konst('idx', [5], [2, 0, 1, 2, 1], 'int32');
  const ga = g.op('gather', 'GatherV2', [x, idx, g.scalarInt('gax', 0)], { batch_dims: I(0), Taxis: T('DT_INT32'), Tindices: T('DT_INT32'), Tparams: T('DT_FLOAT') });
  const gi = g.op('gather_topk', 'GatherV2', [g.op('xt', 'Transpose', [x, g.ints('perm', [1, 0])]), g.op('row0', 'StridedSlice', [tk + ':1', g.ints('b', [0, 0]), g.ints('e', [1, 0]), g.ints('s', [1, 1])],
    { begin_mask: I(0), end_mask: I(2), ellipsis_mask: I(0), new_axis_mask: I(0), shrink_axis_mask: I(1), Index: T('DT_INT32') }), g.scalarInt('gax2', 0)], { batch_dims: I(0) });
  const am = g.op('argmax', 'ArgMax', [x, g.scalarInt('amax', 1)], { output_type: T('DT_INT32') });
  const an = g.op('argmin', 'ArgMin', [x, g.scalarInt('amin', 0)], { output_type: T('DT_INT32') });
  const tile = g.op('tile', 'Tile', [x, g.ints('mult', [2, 1])]);
  return [tk, tk + ':1', ga, gi, am, an, tile];
});
gcase('compare_select_cast', g => {
  const x = g.input('x', [2, 3, 4]);
  const y = g.input('y', [3, 4]);
  const outs = [];
  for (const op of ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual']) {
    const c = g.op(op.toLowerCase() + '_b', op, [x, y], {});
    outs.push(g.op(op.toLowerCase(), 'Cast', [c], { SrcT: T('DT_BOOL'), DstT: T('DT_FLOAT') }));
  }
  const gt = g.op('gt0', 'Greater', [x, g.konst('zero', [], [0])]);
  const lt = g.op('lt1', 'Less', [x, g.konst('one', [], [1])]);
  const and = g.op('and', 'LogicalAnd', [gt, lt], {});
  const or = g.op('or', 'LogicalOr', [gt, g.op('not', 'LogicalNot', [lt], {})], {});
  outs.push(g.op('and_f', 'Cast', [and], { SrcT: T('DT_BOOL'), DstT: T('DT_FLOAT') }));
  outs.push(g.op('sel', 'SelectV2', [or, x, y]));
  outs.push(g.op('to_int', 'Cast', [x], { SrcT: T('DT_FLOAT'), DstT: T('DT_INT32') }));
  return outs;
});
gcase('math', g => {
  const x = g.input('x', [2, 3, 5]);
  const pos = g.op('pos', 'AddV2', [g.op('absx', 'Abs', [x]), g.konst('eps', [], [0.1])]);
  const outs = [];
  for (const op of ['Exp', 'Neg', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Atan', 'Tanh', 'Square', 'Softplus', 'Selu', 'Erf']) outs.push(g.op(op.toLowerCase(), op, [x]));
  for (const op of ['Log', 'Sqrt', 'Rsqrt', 'Reciprocal']) outs.push(g.op(op.toLowerCase(), op, [pos]));
  outs.push(g.op('maximum', 'Maximum', [x, g.konst('m', [5])]));
  outs.push(g.op('minimum', 'Minimum', [x, g.konst('m2', [3, 1])]));
  outs.push(g.op('pow', 'Pow', [pos, g.konst('p', [5], [2, 0.5, 3, -1, 1.5])]));
  outs.push(g.op('sqdiff', 'SquaredDifference', [x, g.konst('sd', [5])]));
  return outs;
});
gcase('centernet_decode', g => {
  // CenterNet's post-processing on a small heat map: peaks, top k, and the
  // class, row and column of each by FloorDiv and FloorMod.
  const heat = g.input('heat', [1, 6, 5, 3]);
  const wh = g.input('wh', [1, 6, 5, 4]);
  const mp = g.op('mp', 'MaxPool', [heat], { ksize: LI([1, 3, 3, 1]), strides: LI([1, 1, 1, 1]), padding: S('SAME'), data_format: S('NHWC') });
  const eq = g.op('eq', 'Equal', [heat, mp], { incompatible_shape_error: B(true) });
  const keep = g.op('keep', 'Cast', [eq], { SrcT: T('DT_BOOL'), DstT: T('DT_FLOAT') });
  const peaks = g.op('peaks', 'Mul', [heat, keep]);
  const flat = g.op('flat', 'Reshape', [peaks, g.ints('fshape', [1, -1])]);
  const tk = g.op('topk', 'TopKV2', [flat, g.scalarInt('k', 7)], { sorted: B(true) });
  const cls = g.op('cls', 'FloorMod', [tk + ':1', g.scalarInt('nc', 3)], { T: T('DT_INT32') });
  const pix = g.op('pix', 'FloorDiv', [tk + ':1', g.scalarInt('nc2', 3)], { T: T('DT_INT32') });
  const row = g.op('row', 'FloorDiv', [pix, g.scalarInt('w', 5)], { T: T('DT_INT32') });
  const col = g.op('col', 'FloorMod', [pix, g.scalarInt('w2', 5)], { T: T('DT_INT32') });
  const whf = g.op('whf', 'Reshape', [wh, g.ints('wshape', [-1, 4])]);
  const ind = g.op('ind', 'Reshape', [pix, g.ints('ishape', [-1])]);
  const box = g.op('box', 'GatherV2', [whf, ind, g.scalarInt('ax', 0)], { batch_dims: I(0) });
  const f = n => g.op(n + '_f', 'Cast', [g.op(n + '_e', 'ExpandDims', [n, g.scalarInt(n + '_d', -1)])], { SrcT: T('DT_INT32'), DstT: T('DT_FLOAT') });
  const b3 = g.op('b3', 'Reshape', [box, g.ints('bshape', [1, 7, 4])]);
  const det = g.op('det', 'ConcatV2', [b3, g.op('score', 'ExpandDims', [tk, g.scalarInt('sd', -1)]), f(cls), f(row), f(col), g.scalarInt('cax', -1)], { N: I(5) });
  return [det];
});

// ---- layers models ----

const layerCases = [];
function lcase(name, build, quant) { layerCases.push({ name, build, quant }); }

lcase('sequential_cnn', () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [9, 8, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }));
  m.add(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'valid', activation: 'relu6', name: 'sep' }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }));
  return m;
});
for (const q of ['uint8', 'float16']) lcase('sequential_cnn_' + q, () => layerCases[0].build(), q);
lcase('functional', () => {
  const x = tf.input({ shape: [8, 8, 3], name: 'image' });
  const p = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'pad' }).apply(x);
  const c1 = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, useBias: false, name: 'c1' }).apply(p);
  const b1 = tf.layers.batchNormalization({ center: false, epsilon: 0.01, name: 'bn1' }).apply(c1);
  const r1 = tf.layers.reLU({ maxValue: 6, name: 'relu6' }).apply(b1);
  const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'tanh', name: 'c2' }).apply(r1);
  const add = tf.layers.add({ name: 'add' }).apply([r1, c2]);
  const l = tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }).apply(add);
  const e = tf.layers.elu({ name: 'elu' }).apply(r1);
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([l, e]);
  const up = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(cat);
  const ap = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg' }).apply(up);
  const pr = tf.layers.prelu({ sharedAxes: [1, 2], name: 'prelu' }).apply(ap);
  const mul = tf.layers.multiply({ name: 'mul' }).apply([pr, ap]);
  const act = tf.layers.activation({ activation: 'sigmoid', name: 'act' }).apply(mul);
  const gm = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(act);
  const f = tf.layers.flatten({ name: 'flat' }).apply(act);
  const d = tf.layers.dropout({ rate: 0.3, name: 'drop' }).apply(f);
  const d1 = tf.layers.dense({ units: 8, activation: 'elu', name: 'd1' }).apply(d);
  const rs = tf.layers.reshape({ targetShape: [2, 4], name: 'rs' }).apply(d1);
  const sm = tf.layers.softmax({ axis: -1, name: 'sm' }).apply(rs);
  const up2 = tf.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear', name: 'up2' }).apply(r1);
  return tf.model({ inputs: x, outputs: [sm, gm, up2], name: 'functional' });
});

// randomWeights gives every weight random values (variances positive).
function randomWeights(m, r) {
  m.setWeights(m.weights.map(w => {
    const n = numel(w.shape);
    const lo = w.name.includes('variance') ? 0.5 : -1, hi = w.name.includes('variance') ? 2 : 1;
    return tf.tensor(r.floats(n, lo, hi), w.shape);
  }));
}

async function saveLayers(m, quant) {
  let art;
  await m.save(tf.io.withSaveHandler(async a => { art = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const data = Buffer.from(art.weightData);
  const specs = [], bufs = [];
  let off = 0;
  for (const s of art.weightSpecs) {
    const n = numel(s.shape), vals = new Float32Array(data.buffer.slice(data.byteOffset + off, data.byteOffset + off + 4 * n));
    off += 4 * n;
    const { bytes, quantization } = encode(vals, s.dtype, quant);
    const spec = Object.assign({}, s);
    if (quantization) spec.quantization = quantization;
    specs.push(spec);
    bufs.push(bytes);
  }
  return {
    model: { format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers v' + tf.version.tfjs, convertedBy: null, modelTopology: art.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }] },
    shards: { 'group1-shard1of1.bin': Buffer.concat(bufs) },
  };
}

async function main() {
  await ready();
  const out = { tfjs: tf.version.tfjs, backend: tf.getBackend(), cases: [] };
  let seed = 1;
  for (const c of graphCases) {
    const g = new Graph(seed++, c.quant);
    const outputs = c.build(g);
    const { model, shards } = g.model(outputs);
    const gm = await tf.loadGraphModel(tf.io.fromMemory(artifacts(model, shards)));
    const feeds = {}, inputs = [];
    for (const i of g.inputs) {
      const data = g.r.floats(numel(i.shape), -3, 3);
      if (c.name === 'floordiv_floormod') for (let k = 0; k < data.length; k++) data[k] = Math.round(data[k] * 4) - (k % 3) * 0.5;
      if (c.name === 'compare_select_cast') for (let k = 0; k < data.length; k++) if (k % 2) data[k] = Math.round(data[k]); // ties for Equal
      if (c.name === 'centernet_decode' && i.name === 'heat') for (let k = 0; k < data.length; k++) data[k] = 1 / (1 + Math.exp(-data[k]));
      feeds[i.name] = tf.tensor(data, i.shape);
      inputs.push({ name: i.name, shape: i.shape, data: f32(data) });
    }
    const run = () => { const ys = gm.execute(feeds, outputs); return Array.isArray(ys) ? ys : [ys]; };
    const ys = run();
    // The cpu backend as a cross-check: where wasm disagrees with it (a
    // wasm bug), the fixture keeps cpu's values and says so.
    await tf.setBackend('cpu');
    const cpu = run();
    await tf.setBackend('wasm');
    let wasmBug = '';
    const res = ys.map((y, k) => {
      const a = y.dataSync(), b = cpu[k].dataSync();
      let d = 0, m = 0;
      for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
      if (d > 1e-4 * Math.max(m, 1e-6)) { wasmBug += `${outputs[k]}: wasm differs from cpu by ${d} (max ${m}); `; return { name: outputs[k], shape: y.shape, data: f32(b) }; }
      return { name: outputs[k], shape: y.shape, data: f32(a) };
    });
    if (wasmBug) console.log(c.name, wasmBug);
    out.cases.push({ name: c.name, kind: 'graph', model, shards: b64(shards), inputs, outputs: res, wasmBug });
  }
  for (const c of layerCases) {
    const r = rng(seed++);
    const m = c.build();
    randomWeights(m, r);
    const { model, shards } = await saveLayers(m, c.quant);
    const lm = await tf.loadLayersModel(tf.io.fromMemory(artifacts(model, shards)));
    const shape = [2, ...lm.inputs[0].shape.slice(1)];
    const data = r.floats(numel(shape), -2, 2);
    const ys = lm.predict(tf.tensor(data, shape));
    const names = lm.outputNames || lm.outputs.map(o => o.name);
    const res = (Array.isArray(ys) ? ys : [ys]).map((y, k) => ({ name: lm.outputLayers[k].name, shape: y.shape, data: f32(y.dataSync()) }));
    out.cases.push({ name: c.name, kind: 'layers', model, shards: b64(shards), inputs: [{ name: lm.inputLayers[0].name, shape, data: f32(data) }], outputs: res });
    void names;
  }
  writeGz(path.join(__dirname, 'tiny_models.json.gz'), out);
}

function b64(shards) {
  const o = {};
  for (const [k, v] of Object.entries(shards)) o[k] = v.toString('base64');
  return o;
}

main().catch(e => { console.error(e); process.exit(1); });
