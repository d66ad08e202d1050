// Helpers shared by the fixture generators: TF.js from the peers install
// (../shared/peers/install.sh), a seeded generator, float32 encoding and
// in-memory model artifacts.
'use strict';
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');

const peers = process.env.DLCV_PEERS || path.join(process.env.HOME, '.cache/dlcv-peers');
const tf = require(path.join(peers, 'node_modules/@tensorflow/tfjs'));
require(path.join(peers, 'node_modules/@tensorflow/tfjs-backend-wasm'));

async function ready() {
  await tf.setBackend('wasm');
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error('no wasm backend');
}

// mulberry32: a small seeded generator, so fixtures regenerate the same.
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.normal = () => {
    const u = Math.max(next(), 1e-12), v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  next.floats = (n, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
  return next;
}

function numel(shape) { return shape.reduce((a, b) => a * b, 1); }

// f32 encodes float32 values as base64 (little-endian).
function f32(data) {
  const a = Float32Array.from(data);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function writeGz(file, obj) {
  fs.writeFileSync(file, zlib.gzipSync(Buffer.from(JSON.stringify(obj)), { level: 9 }));
  console.log('wrote', file, fs.statSync(file).size, 'bytes');
}

// artifacts turns a model.json object and its shard bytes into what
// tf.io.fromMemory takes.
function artifacts(modelJSON, shards) {
  const specs = [];
  for (const g of modelJSON.weightsManifest) specs.push(...g.weights);
  const buf = Buffer.concat(modelJSON.weightsManifest.flatMap(g => g.paths.map(p => shards[p])));
  const out = {
    modelTopology: modelJSON.modelTopology, weightSpecs: specs,
    weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), format: modelJSON.format,
  };
  if (modelJSON.signature) out.signature = modelJSON.signature;
  if (modelJSON.userDefinedMetadata) out.userDefinedMetadata = modelJSON.userDefinedMetadata;
  return out;
}

// loadDir reads model.json and its shards from disk.
function loadDir(jsonPath) {
  const m = JSON.parse(fs.readFileSync(jsonPath));
  const shards = {};
  for (const g of m.weightsManifest) for (const p of g.paths) shards[p] = fs.readFileSync(path.join(path.dirname(jsonPath), p));
  return artifacts(m, shards);
}

module.exports = { tf, ready, rng, numel, f32, writeGz, artifacts, loadDir };
