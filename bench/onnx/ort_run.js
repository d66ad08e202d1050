// Runs every model of a bench/onnx export folder (manifest.json) in ONNX
// Runtime on each input and writes ort_<model>_b<batch>.npy beside them,
// with the time per run in ort_times.json.
//
//   node bench/onnx/ort_run.js OUTDIR
const fs = require('fs');
const path = require('path');
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');

const {readNpy, writeNpy} = require('./npy.js');

(async () => {
  const dir = process.argv[2];
  const man = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json')));
  const times = {};
  for (const m of man.models) {
    const s = await ort.InferenceSession.create(path.join(dir, m.file), {intraOpNumThreads: Number(process.env.THREADS || 0)});
    times[m.name] = {};
    for (const [b, f] of Object.entries(man.inputs)) {
      const x = readNpy(path.join(dir, f));
      const feeds = {[s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)};
      let r = await s.run(feeds); // warm up
      const reps = 3, t0 = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) r = await s.run(feeds);
      times[m.name][b] = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
      const y = r[s.outputNames[0]];
      writeNpy(path.join(dir, `ort_${m.name}_b${b}.npy`), y.dims, y.data);
    }
    console.error(`ran ${m.name}`);
  }
  fs.writeFileSync(path.join(dir, 'ort_times.json'), JSON.stringify(times, null, 1));
})();
