// Profiles one ONNX model in ONNX Runtime (Node.js binding) for
// bench/onnx/layers.sh: session creation with its profiler on, REPS runs
// on the input .npy, then the profile (Chrome trace JSON) is written to
// PREFIX_<date>.json.
//
//   node bench/onnx/ort_profile.js MODEL.onnx INPUT.npy THREADS REPS PREFIX
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');

const {readNpy} = require('./npy.js');

(async () => {
  const [model, input, threads, reps, prefix] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: prefix});
  const x = readNpy(input);
  const feeds = {[s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)};
  for (let i = 0; i < Number(reps); i++) await s.run(feeds);
  s.endProfiling();
})().catch(e => { console.error(e); process.exit(1); });
