// ONNX Runtime's outputs for the op cases of gen_ops.py: for every folder
// of onnx/testdata/ops, runs model.onnx on input_K.npy (input K is graph
// input K) and writes ort_output_K.npy (as float32, dlcv's element type:
// integer outputs are exact below 2^24).
//
//   node onnx/testdata/gen_ops_ref.js
const fs = require('fs');
const path = require('path');
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');
const {readNpy, writeNpy} = require('../../bench/onnx/npy.js');

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
    // Integer outputs (BigInt64Array for int64) as float32, exact below 2^24.
    s.outputNames.forEach((n, k) => writeNpy(path.join(d, `ort_output_${k}.npy`), r[n].dims, Float32Array.from(r[n].data, (v) => Number(v))));
  }
})();
