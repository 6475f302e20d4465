import { parseArgs } from 'node:util';
import { formatChecks, runChecks } from './checks';

const USAGE = `usage: pnpm run doctor [--json] [--backend auto|tensorflow|webgpu|wasm|cpu]

Checks this machine: Node.js, the tfjs backend that would be used (and why not the others),
Redis (REDIS_URL), the SQLite path (SWEEP_DB) and the dataset. Exits 1 when something required is missing.`;

async function main(): Promise<number> {
  let values: { json?: boolean; backend?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { json: { type: 'boolean' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err: unknown) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const checks = await runChecks({ env: process.env, ...(values.backend === undefined ? {} : { backend: values.backend }) });
  const ok = checks.every((c) => c.ok || !c.required);
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
  else process.stdout.write(`${formatChecks(checks)}\n${ok ? 'all required checks passed' : 'some required checks failed: see fix lines above'}\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
