import { describeBackend, selectBackend, webgpuErrors } from '@ablate/backend';
import { parseArgs } from 'node:util';
import { checkModelProperties, maxRelativeDiff, trainingLosses } from './model-properties';

const USAGE = `usage: pnpm check:webgpu [--parity-preset tiny] [--parity-steps 50] [--json]

On the webgpu backend: the model's properties (invertibility, exact logdet, causality, no tensor leaks, cached =
uncached sampling), then the first --parity-steps training losses of --parity-preset on webgpu against wasm (same
seed, same batches). Exits 1 if a property fails, the losses differ by more than 1e-3 relative, or Dawn reported a
GPU error. Needs a real adapter: Dawn's null adapter (DAWNNODE_BACKEND=null) computes nothing.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'parity-preset': { type: 'string' }, 'parity-steps': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const preset = values['parity-preset'] ?? 'tiny';
  const steps = Number(values['parity-steps'] ?? 50);
  if (!Number.isInteger(steps) || steps < 0) {
    process.stderr.write(`--parity-steps: expected a non-negative integer, got "${values['parity-steps']}"\n`);
    return 2;
  }
  const say = (s: string) => {
    if (!values.json) process.stdout.write(`${s}\n`);
  };
  const choice = await selectBackend({ requested: 'webgpu' });
  say(describeBackend(choice));
  const properties = await checkModelProperties();
  for (const p of properties) say(`${p.ok ? 'ok  ' : 'FAIL'} ${p.name}: ${p.value} (${p.atLeast ? '≥' : '<'} ${p.limit})`);
  let parity: {
    preset: string;
    steps: number;
    maxRelativeDiff: number;
    limit: number;
    ok: boolean;
    webgpu: number[];
    wasm: number[];
    webgpuSec: number;
    wasmSec: number;
  } | null = null;
  if (steps > 0) {
    let t0 = performance.now();
    const webgpu = await trainingLosses(preset, steps);
    const webgpuSec = (performance.now() - t0) / 1000;
    await selectBackend({ requested: 'wasm' });
    t0 = performance.now();
    const wasm = await trainingLosses(preset, steps);
    const wasmSec = (performance.now() - t0) / 1000;
    const d = maxRelativeDiff(wasm, webgpu);
    parity = { preset, steps, maxRelativeDiff: d, limit: 1e-3, ok: d < 1e-3, webgpu, wasm, webgpuSec, wasmSec };
    say(
      `${parity.ok ? 'ok  ' : 'FAIL'} ${preset}: first ${steps} losses, webgpu vs wasm, max relative difference ${d.toExponential(2)} (< 1e-3); ${webgpuSec.toFixed(1)} s vs ${wasmSec.toFixed(1)} s`,
    );
  }
  const errors = webgpuErrors();
  for (const e of errors) say(`GPU error: ${e}`);
  const ok = properties.every((p) => p.ok) && (parity?.ok ?? true) && errors.length === 0;
  if (values.json) process.stdout.write(`${JSON.stringify({ backend: choice.name, device: choice.device, properties, parity, gpuErrors: errors, ok })}\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
