// Reference outputs of the PaddleOCR models (shared/models/onnx/paddleocr)
// on a real photo (shared/models/coral/grace_hopper.bmp), from ONNX
// Runtime, for onnx/paddleocr_test.go. The inputs are made exactly as the
// Go test makes them: RGB crops of the photo, normalised in float64 and
// rounded to float32. The outputs are large, so the fixture keeps a
// sample of them and statistics of the whole.
//
//   node onnx/testdata/gen_paddleocr.js SHARED_DIR > onnx/testdata/paddleocr_ref.json
//
// ONNX Runtime's Node.js binding: see shared/peers/install.sh.
const path = require('path');
const fs = require('fs');
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');

const shared = process.argv[2] || path.join(__dirname, '../../../shared');

// readBMP decodes a 24-bit bottom-up BMP into RGB rows.
function readBMP(file) {
  const b = fs.readFileSync(file);
  const off = b.readUInt32LE(10), w = b.readInt32LE(18), h = b.readInt32LE(22), bpp = b.readUInt16LE(28);
  if (bpp !== 24) throw new Error('want a 24-bit BMP');
  const stride = Math.ceil(w * 3 / 4) * 4;
  const rgb = new Uint8Array(w * Math.abs(h) * 3);
  for (let y = 0; y < Math.abs(h); y++) {
    const src = off + (h > 0 ? Math.abs(h) - 1 - y : y) * stride;
    for (let x = 0; x < w; x++) {
      rgb[(y * w + x) * 3] = b[src + x * 3 + 2];
      rgb[(y * w + x) * 3 + 1] = b[src + x * 3 + 1];
      rgb[(y * w + x) * 3 + 2] = b[src + x * 3];
    }
  }
  return {w, h: Math.abs(h), rgb};
}

// input crops rows [y0, y0+h) and columns [x0, x0+w) as NCHW float32,
// (v/255 - mean[c]) / std[c] in float64.
function input(img, y0, x0, h, w, mean, std) {
  const t = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        t[(c * h + y) * w + x] = (img.rgb[((y0 + y) * img.w + x0 + x) * 3 + c] / 255 - mean[c]) / std[c];
  return new ort.Tensor('float32', t, [1, 3, h, w]);
}

const round = (v) => Number(v.toPrecision(9));

(async () => {
  const img = readBMP(path.join(shared, 'models/coral/grace_hopper.bmp'));
  const dir = path.join(shared, 'models/onnx/paddleocr');
  const out = {image: 'models/coral/grace_hopper.bmp', models: []};
  const imagenet = [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]];
  const half = [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]];
  const cases = [
    {file: 'ch_PP-OCRv4_det_infer.onnx', crop: [0, 0, 576, 512], norm: imagenet, stride: 8},
    {file: 'ch_PP-OCRv4_rec_infer.onnx', crop: [276, 0, 48, 512], norm: half, topk: 5},
    {file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', crop: [300, 160, 48, 192], norm: half, stride: 1},
  ];
  for (const c of cases) {
    const s = await ort.InferenceSession.create(path.join(dir, c.file));
    const x = input(img, ...c.crop, ...c.norm);
    const r = await s.run({[s.inputNames[0]]: x});
    const y = r[s.outputNames[0]];
    const d = y.data;
    let sum = 0, max = -Infinity, above = 0;
    for (const v of d) { sum += v; max = Math.max(max, v); if (v > 0.3) above++; }
    const m = {file: c.file, crop: c.crop, mean: c.norm[0], std: c.norm[1], shape: y.dims, sum: round(sum), max: round(max), above_0_3: above};
    if (c.stride) {
      // Every stride-th value along the last two axes.
      const [h, w] = y.dims.slice(-2), lead = d.length / (h * w);
      m.stride = c.stride;
      m.sample = [];
      for (let l = 0; l < lead; l++)
        for (let i = 0; i < h; i += c.stride)
          for (let j = 0; j < w; j += c.stride) m.sample.push(round(d[(l * h + i) * w + j]));
    }
    if (c.topk) {
      // The top k classes of each time step and their probabilities.
      const [t, n] = y.dims.slice(-2);
      m.top_index = [];
      m.top_prob = [];
      for (let i = 0; i < t; i++) {
        const row = Array.from(d.slice(i * n, (i + 1) * n)).map((v, k) => [v, k]);
        row.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        for (let k = 0; k < c.topk; k++) { m.top_index.push(row[k][1]); m.top_prob.push(round(row[k][0])); }
      }
      m.topk = c.topk;
    }
    out.models.push(m);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})();
