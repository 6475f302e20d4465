/**
 * `pnpm soak`, short: 20 runs on 4 workers over 2 network-namespace hosts with 1.5 minutes of faults. Every check must
 * pass and every kind of fault must have been injected (the fault bag deals each kind at least once a round). Needs
 * root, iproute2 and redis-server, as multihost.test.ts; runs the built soak-main.js (pnpm build first).
 */
import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prerequisiteProblem } from './netns';
import { FAULT_KINDS, type SoakReport } from './soak';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'soak', 'soak-main.js');
const problem = prerequisiteProblem();

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => void (stdout += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => void (stderr += d.toString('utf8')));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('pnpm soak', () => {
  it('bad input: a clear message, exit 2, no stack trace', () => {
    for (const args of [['--runs', '0'], ['--hosts', '3', '--workers', '2'], ['--minutes', 'soon'], ['--seed', '-1'], ['--frobnicate']]) {
      const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
      expect({ args, code: r.status }).toEqual({ args, code: 2 });
      expect(r.stderr.split('\n')[0]).toMatch(/--runs|--hosts|--minutes|--seed|frobnicate/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  (problem === null ? it : it.skip)(
    'a short soak under every kind of fault: every run ends as its history implies, every row once, nothing pending',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'soak-test-'));
      const json = path.join(dir, 'soak.json');
      try {
        const r = await soak(['--runs', '20', '--workers', '4', '--hosts', '2', '--minutes', '1.5', '--seed', '7', '--json', json]);
        const tail = r.code === 0 ? '' : `${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`;
        expect({ code: r.code, tail }).toEqual({ code: 0, tail: '' });
        expect(r.stdout).toContain('chaos soak: seed 7');
        const report = JSON.parse(readFileSync(json, 'utf8')) as SoakReport;
        expect(report.ok).toBe(true);
        expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        for (const kind of FAULT_KINDS) {
          expect({ kind, injected: (report.faults[kind] ?? 0) > 0 }).toEqual({ kind, injected: true });
          expect(r.stdout).toMatch(new RegExp(`\\| ${kind.replace(/[()]/g, '\\$&')} +\\| [1-9]`));
        }
        expect(Object.values(report.runsByState).reduce((a, b) => a + b, 0)).toBe(20);
        expect(report.runsByState.succeeded ?? 0).toBeGreaterThan(0);
        expect(report.rows.present).toBe(report.rows.expected);
        expect(report.rows.present).toBeGreaterThan(0);
        expect({ lost: report.rows.lost, duplicated: report.rows.duplicated, wrong: report.rows.wrongValue }).toEqual({ lost: 0, duplicated: 0, wrong: 0 });
        expect(r.stdout).toMatch(/\| no event left unacknowledged \(XPENDING 0\) +\| pass/);
        expect(r.stdout).toMatch(/PASS: replay the fault schedule with --seed 7/);
        expect(report.peakRssMb.recorder).toBeGreaterThan(0);
        expect(report.peakRssMb.worker).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    9 * 60_000,
  );
});
