// Times one ONNX model in ONNX Runtime (Node.js binding) for
// bench/onnx/speed.sh: session creation, then one warm-up run and REPS
// timed runs on the input .npy; prints one JSON line with the session
// creation time, the warm-up run's time and every run's wall and process
// CPU time (all threads) in ms.
//
//   node bench/onnx/ort_speed.js MODEL.onnx INPUT.npy THREADS REPS
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');

const {readNpy} = require('./npy.js');

(async () => {
  const [model, input, threads, reps] = process.argv.slice(2);
  const t0 = process.hrtime.bigint();
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const create = Number(process.hrtime.bigint() - t0) / 1e6;
  const x = readNpy(input);
  const feeds = {[s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)};
  const t1 = process.hrtime.bigint();
  await s.run(feeds);
  const first = Number(process.hrtime.bigint() - t1) / 1e6;
  const runs = [], cpu = [];
  for (let i = 0; i < Number(reps); i++) {
    const t = process.hrtime.bigint(), c = process.cpuUsage();
    await s.run(feeds);
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1e3);
  }
  console.log(JSON.stringify({create, first, runs, cpu}));
})().catch(e => { console.error(e); process.exit(1); });
