// Runs every model of a bench/onnx export folder (manifest.json) in ONNX
// Runtime on each input and writes ort_<model>_b<batch>.npy beside them,
// with the time per run in ort_times.json.
//
//   node bench/onnx/ort_run.js OUTDIR
const fs = require('fs');
const path = require('path');
const ort = require(process.env.HOME + '/.cache/dlcv-peers/node_modules/onnxruntime-node');

// readNpy reads a little-endian float32 .npy (C order).
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(file + ': not .npy');
  const major = b[6];
  const hl = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const hdr = b.toString('latin1', start, start + hl);
  if (!hdr.includes("'<f4'")) throw new Error(file + ': want float32');
  const shape = hdr.match(/\(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + start + hl, b.byteOffset + b.length));
  return {shape, data};
}

// writeNpy writes a float32 .npy.
function writeNpy(file, shape, data) {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = (64 - (10 + dict.length + 1) % 64) % 64;
  dict += ' '.repeat(pad) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(dict.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

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
