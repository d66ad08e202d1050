// Writes shared_refs.json.gz: what TensorFlow.js 4 (wasm backend)
// computes for the four shared TF.js models (../shared/models/tfjs) on the
// shared photos (../shared/models/coral/*.bmp), preprocessed as
// shared_test.go does it (integer arithmetic, so Go feeds the same
// floats). Small outputs are stored whole, large ones sampled at 1024
// evenly spaced positions. The models and photos themselves are not
// copied.
//
//   node tfjs/testdata/gen_shared.js   (DLCV_SHARED, default ../shared)
'use strict';
const fs = require('fs');
const path = require('path');
const { tf, ready, f32, writeGz, loadDir } = require('./common');

const shared = process.env.DLCV_SHARED || path.join(__dirname, '../../../shared');

// readBMP decodes an uncompressed 24-bit BMP into RGB rows, top first.
function readBMP(file) {
  const b = fs.readFileSync(file);
  const off = b.readUInt32LE(10), w = b.readInt32LE(18), h0 = b.readInt32LE(22), bpp = b.readUInt16LE(28);
  if (bpp !== 24 || b.readUInt32LE(30) !== 0) throw new Error(file + ': not an uncompressed 24-bit BMP');
  const h = Math.abs(h0), stride = Math.ceil(w * 3 / 4) * 4;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const row = h0 > 0 ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const p = off + row * stride + 3 * x;
      rgb.set([b[p + 2], b[p + 1], b[p]], (y * w + x) * 3);
    }
  }
  return { w, h, rgb };
}

// crop cuts a (x0, y0, size, size) square.
function crop(img, x0, y0, size) {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) rgb.set(img.rgb.subarray(((y0 + y) * img.w + x0) * 3, ((y0 + y) * img.w + x0 + size) * 3), y * size * 3);
  return { w: size, h: size, rgb };
}

// resize is bilinear with half-pixel centres in 8-bit fixed point: the
// source coordinate in 1/256 pixels, clamped to the image, and the result
// rounded; integer arithmetic, so shared_test.go computes the same bytes.
function resize(img, w, h) {
  const coord = (d, dst, src) => Math.min(Math.max(Math.floor(((2 * d + 1) * src * 128 - dst * 128) / dst), 0), (src - 1) * 256);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = coord(y, h, img.h), y0 = sy >> 8, fy = sy & 255, y1 = Math.min(y0 + 1, img.h - 1);
    for (let x = 0; x < w; x++) {
      const sx = coord(x, w, img.w), x0 = sx >> 8, fx = sx & 255, x1 = Math.min(x0 + 1, img.w - 1);
      for (let c = 0; c < 3; c++) {
        const p = (yy, xx) => img.rgb[(yy * img.w + xx) * 3 + c];
        const v = p(y0, x0) * (256 - fx) * (256 - fy) + p(y0, x1) * fx * (256 - fy) + p(y1, x0) * (256 - fx) * fy + p(y1, x1) * fx * fy;
        out[(y * w + x) * 3 + c] = (v + 32768) >> 16;
      }
    }
  }
  return { w, h, rgb: out };
}

// The models' input scalings (documented in docs/import-tfjs.md).
const prep = {
  centernet: img => Float32Array.from(img.rgb, v => v),                   // RGB 0..255
  blazeface: img => Float32Array.from(img.rgb, v => v / 127.5 - 1),       // RGB -1..1
  nsfw: img => Float32Array.from(img.rgb, v => v / 255),                  // RGB 0..1
  emotion: img => {                                                     // gray -1..1
    const g = new Float32Array(img.w * img.h);
    for (let i = 0; i < g.length; i++) {
      const [r, gg, b] = img.rgb.subarray(3 * i, 3 * i + 3);
      g[i] = (Math.floor((299 * r + 587 * gg + 114 * b + 500) / 1000) / 255 - 0.5) * 2;
    }
    return g;
  },
};

function store(t, full) {
  const d = t.dataSync(), n = d.length;
  let mx = 0;
  for (const v of d) mx = Math.max(mx, Math.abs(v));
  const o = { shape: t.shape, max: mx };
  if (full || n <= 1024) {
    o.data = f32(d);
  } else {
    const s = new Float32Array(1024);
    for (let i = 0; i < 1024; i++) s[i] = d[Math.floor(i * n / 1024)];
    o.sample = f32(s);
  }
  return o;
}

async function main() {
  await ready();
  const photos = {};
  for (const p of ['cat', 'bird', 'grace_hopper']) photos[p] = readBMP(path.join(shared, 'models/coral', p + '.bmp'));
  const faces = { grace_hopper: [165, 125, 190], cat: [150, 20, 200] }; // x0, y0, size
  const models = [
    { key: 'centernet', file: 'models/tfjs/human/centernet.json', size: 512, outputs: ['tower_0/detections', 'tower_0/keypoints', 'tower_0/wh'] },
    { key: 'blazeface', file: 'models/tfjs/human/blazeface.json', size: 256, outputs: ['Identity', 'Identity_1', 'Identity_2', 'Identity_3'] },
    { key: 'emotion', file: 'models/tfjs/human/emotion.json', size: 64, outputs: ['Identity'], faces: true },
    { key: 'nsfw', file: 'models/tfjs/nsfw-mobilenet-v2/model.json', size: 224, layers: true },
  ];
  const out = { tfjs: tf.version.tfjs, backend: tf.getBackend(), runs: [] };
  for (const m of models) {
    const art = loadDir(path.join(shared, m.file));
    const model = m.layers ? await tf.loadLayersModel(tf.io.fromMemory(art)) : await tf.loadGraphModel(tf.io.fromMemory(art));
    const images = m.faces ? Object.keys(faces) : Object.keys(photos);
    for (const name of images) {
      let img = photos[name];
      if (m.faces) img = crop(img, ...faces[name]);
      img = resize(img, m.size, m.size);
      const x = prep[m.key](img);
      const ch = m.key === 'emotion' ? 1 : 3;
      const input = tf.tensor(x, [1, m.size, m.size, ch]);
      let ys = m.layers ? model.predict(input) : model.execute(input, m.outputs);
      ys = Array.isArray(ys) ? ys : [ys];
      const names = m.layers ? [model.outputLayers[0].name] : m.outputs;
      const outs = {};
      ys.forEach((y, i) => { outs[names[i]] = store(y, m.key === 'blazeface' && name === 'grace_hopper'); });
      out.runs.push({ model: m.key, image: name, outputs: outs });
      console.log(m.key, name, Object.keys(outs).map(k => k + JSON.stringify(outs[k].shape)).join(' '));
    }
  }
  writeGz(path.join(__dirname, 'shared_refs.json.gz'), out);
}

main().catch(e => { console.error(e); process.exit(1); });
