// Writes refs.json: what TensorFlow.js 4 (wasm backend) gives for
// OBJECT_LOCALIZATION (CenterNet) and SAFE_SEARCH_DETECTION (the NSFW
// MobileNetV2) on the shared photos, each pipeline end to end in TF.js:
// the decoded BMP, tf.image.resizeBilinear with half-pixel centres, the
// model's input scaling, the model, and for CenterNet
// tf.image.nonMaxSuppressionAsync (IoU 0.4, score 0.2, at most 10) as the
// Human library runs it. annotate's tests compare their results with it.
//
//   ../shared/peers/install.sh   # TF.js + wasm under ~/.cache/dlcv-peers
//   node annotate/testdata/gen_refs.js   (DLCV_SHARED, default ../shared)
'use strict';
const fs = require('fs');
const path = require('path');

const peers = process.env.DLCV_PEERS || path.join(process.env.HOME, '.cache/dlcv-peers');
const tf = require(path.join(peers, 'node_modules/@tensorflow/tfjs'));
require(path.join(peers, 'node_modules/@tensorflow/tfjs-backend-wasm'));
const shared = process.env.DLCV_SHARED || path.join(__dirname, '../../../shared');

// readBMP decodes an uncompressed 24-bit BMP into RGB rows, top first.
function readBMP(file) {
  const b = fs.readFileSync(file);
  const off = b.readUInt32LE(10), w = b.readInt32LE(18), h0 = b.readInt32LE(22), bpp = b.readUInt16LE(28);
  if (bpp !== 24 || b.readUInt32LE(30) !== 0) throw new Error(file + ': not an uncompressed 24-bit BMP');
  const h = Math.abs(h0), stride = Math.ceil(w * 3 / 4) * 4;
  const rgb = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const row = h0 > 0 ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const p = off + row * stride + 3 * x;
      rgb.set([b[p + 2], b[p + 1], b[p]], (y * w + x) * 3);
    }
  }
  return tf.tensor3d(rgb, [h, w, 3]);
}

// load reads a model.json and its shards from disk.
async function load(rel, layers) {
  const file = path.join(shared, rel);
  const m = JSON.parse(fs.readFileSync(file));
  const specs = [], bufs = [];
  for (const g of m.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(path.dirname(file), p)));
  }
  const buf = Buffer.concat(bufs);
  const art = {
    modelTopology: m.modelTopology, weightSpecs: specs, format: m.format,
    weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length),
  };
  if (m.signature) art.signature = m.signature;
  if (m.userDefinedMetadata) art.userDefinedMetadata = m.userDefinedMetadata;
  return layers ? tf.loadLayersModel(tf.io.fromMemory(art)) : tf.loadGraphModel(tf.io.fromMemory(art));
}

const round = v => Math.round(v * 1e6) / 1e6;

async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const centernet = await load('models/tfjs/human/centernet.json', false);
  const nsfw = await load('models/tfjs/nsfw-mobilenet-v2/model.json', true);
  const out = { tfjs: tf.version.tfjs, backend: tf.getBackend(), photos: {} };
  for (const name of ['cat', 'bird', 'grace_hopper']) {
    const img = readBMP(path.join(shared, 'models/coral', name + '.bmp'));
    // CenterNet: 512x512 RGB 0..255; detections x1, y1, x2, y2 (input
    // pixels), score, class.
    const x = tf.expandDims(tf.image.resizeBilinear(img, [512, 512], false, true), 0);
    const det = tf.squeeze(centernet.execute(x, 'tower_0/detections'));
    const rows = await det.array();
    const boxes = tf.tensor2d(rows.map(r => [r[1], r[0], r[3], r[2]]));
    const scores = tf.tensor1d(rows.map(r => r[4]));
    const keep = await (await tf.image.nonMaxSuppressionAsync(boxes, scores, 10, 0.4, 0.2)).array();
    const objects = keep.map(i => ({
      class: rows[i][5], score: round(rows[i][4]),
      box: [rows[i][0] / 512, rows[i][1] / 512, rows[i][2] / 512, rows[i][3] / 512].map(round),
    }));
    // NSFW: 224x224 RGB 0..1; Drawing, Hentai, Neutral, Porn, Sexy.
    const y = nsfw.predict(tf.expandDims(tf.div(tf.image.resizeBilinear(img, [224, 224], false, true), 255), 0));
    const probs = Array.from(await y.data()).map(round);
    out.photos[name] = { objects, nsfw: probs };
    console.log(name, JSON.stringify(out.photos[name]));
  }
  const file = path.join(__dirname, 'refs.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log('wrote', file);
}

main().catch(e => { console.error(e); process.exit(1); });
