// ONNX Runtime's outputs for the op cases of gen_ops.py: for every folder
// of onnx/testdata/ops, runs model.onnx on input_K.npy (input K is graph
// input K) and writes ort_output_K.npy (as float32, dlcv's element type:
// integer outputs are exact below 2^24).
//
//   node onnx/testdata/gen_ops_ref.js
const fs = require('fs');
const path = require('path');
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');

function readNpy(file) {
  const b = fs.readFileSync(file);
  const major = b[6];
  const hl = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const hdr = b.toString('latin1', start, start + hl);
  if (!hdr.includes("'<f4'")) throw new Error(file + ': want float32');
  const shape = hdr.match(/\(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + start + hl, b.byteOffset + b.length));
  return {shape, data};
}

function writeNpy(file, shape, data) {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = (64 - (10 + dict.length + 1) % 64) % 64;
  dict += ' '.repeat(pad) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1;
  h.writeUInt16LE(dict.length, 8);
  const f = Float32Array.from(data, (v) => Number(v));
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(dict, 'latin1'), Buffer.from(f.buffer)]));
}

(async () => {
  const root = path.join(__dirname, 'ops');
  for (const name of fs.readdirSync(root).sort()) {
    const d = path.join(root, name);
    const s = await ort.InferenceSession.create(path.join(d, 'model.onnx'));
    const feeds = {};
    s.inputNames.forEach((n, i) => {
      const x = readNpy(path.join(d, `input_${i}.npy`));
      feeds[n] = new ort.Tensor('float32', x.data, x.shape);
    });
    const r = await s.run(feeds);
    s.outputNames.forEach((n, k) => writeNpy(path.join(d, `ort_output_${k}.npy`), r[n].dims, r[n].data));
  }
})();
