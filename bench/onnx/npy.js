// Float32 .npy reading and writing for the bench/onnx Node.js scripts.
const fs = require('fs');

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

module.exports = {readNpy, writeNpy};
