#!/usr/bin/env node
// Builds the N-API addon (build/Release/ablate_blas.node) against the system's OpenBLAS with node-gyp, offline:
// node-gyp is pointed at the running Node's own headers (<prefix>/include/node), so it never downloads them.
// Never fails the workspace build: if OpenBLAS or a compiler is missing it writes the reason to
// build/unavailable.txt (the runtime's one-line fallback message quotes it) and exits 0.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build', 'Release', 'ablate_blas.node');
const marker = path.join(root, 'build', 'unavailable.txt');
const sources = ['native/blas.c', 'native/fused.c', 'binding.gyp', 'scripts/build-addon.js'].map((f) => path.join(root, f));

function unavailable(reason) {
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  fs.writeFileSync(marker, `${reason}\n`);
  process.stderr.write(`@ablate/blas: native addon not built (${reason}); workers will use plain wasm\n`);
  process.exit(0);
}

const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
if (process.env.ABLATE_BLAS_FORCE_BUILD === undefined && mtime(out) > 0 && sources.every((s) => mtime(s) <= mtime(out))) process.exit(0);

const pc = spawnSync('pkg-config', ['--exists', 'openblas']);
if (pc.error || pc.status !== 0) {
  unavailable('OpenBLAS not found by pkg-config: apt-get install libopenblas-dev pkg-config (bash scripts/setup.sh does)');
}

const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--release', '--loglevel=warn'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
else if (!process.env.npm_config_nodedir) {
  unavailable(`no Node headers at ${path.join(prefix, 'include', 'node')}; set npm_config_nodedir to a Node source or install prefix`);
}
const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' } });
if (r.status !== 0 || !fs.existsSync(out)) {
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const firstError = log.split('\n').find((l) => /error/i.test(l)) ?? `node-gyp exited with ${r.status}`;
  unavailable(`node-gyp failed: ${firstError.trim()}`);
}
fs.rmSync(marker, { force: true });
