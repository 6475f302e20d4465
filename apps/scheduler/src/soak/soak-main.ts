import { createLogger } from '@ablate/log';
import { writeFileSync } from 'node:fs';
import { runMain, UsageError } from '@ablate/cli';
import { prerequisiteProblem } from './netns';
import { cleanUp, runSoak } from './soak';
import { parseSoakOptions, USAGE } from './soak-options';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const o = parseSoakOptions(argv);
  if (o === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const problem = prerequisiteProblem();
  if (problem !== null) throw new UsageError(problem);
  const log = createLogger({ name: 'soak' });
  const command = `pnpm soak ${argv.join(' ')}`.trim();
  const report = await runSoak(o, log, command);
  report.dir = cleanUp(report.dir ?? '', o.keep || !report.ok);
  process.stdout.write(`\n${report.table}\n${report.dir ? `logs, SQLite and AOF kept in ${report.dir}\n` : ''}`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ ...report, table: undefined }, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

runMain(main);
