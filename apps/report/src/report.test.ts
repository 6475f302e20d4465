import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { seededSweep, twoByTwoSweep, runReport } from './test-utils/fixture';

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

describe('pnpm report', () => {
  it('writes one self-contained page for a two-dimensional sweep: results, a rows × columns grid of figures, charts, confusion matrices', () => {
    const f = twoByTwoSweep();
    const out = path.join(f.dir, 'out');
    const r = runReport(['prior-grid', '--out', out], { SWEEP_DB: f.db });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = path.join(out, 'prior-grid.html');
    expect(readdirSync(out)).toEqual(['prior-grid.html']); // no temporary left behind
    const html = readFileSync(file, 'utf8');
    expect(
      JSON.parse(
        r.stdout
          .trim()
          .split('\n')
          .filter((l) => l.includes('report written'))
          .at(-1) ?? '{}',
      ),
    ).toMatchObject({ file, runs: 4 });

    // Self-contained: no script, nothing fetched from anywhere (the only URLs are SVG namespace declarations).
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:|\/\/|file:)/i);

    // Results table: one row per run, with the final numbers.
    const table = html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>') + 8);
    expect(count(table, /<tr>/g)).toBe(1 + 4);
    expect(table).toContain('mu_init=randn mu_std=1 lr_scale=0.1');
    expect(table).toContain('5.490'); // bpd of run 1 at step 100: 6.5 − 1 − 0.01
    expect(table).toContain('80.0%'); // flow accuracy
    expect(table).toContain('70.0%'); // class-consistency of run 2
    expect(table).toContain('diverged at step 100');
    expect(table).toContain('61.0 s'); // wall time
    expect(table).toContain('wasm · CPU (wasm)');

    // The grid: rows = the first swept parameter, columns = the second, for samples, μ and confusion matrices.
    expect(count(html, /<table class="grid">/g)).toBe(3);
    expect(html).toContain('<th>lr_scale=1</th><th>lr_scale=0.1</th>');
    expect(html).toContain('<th class="row-head">mu_init=zero</th>');
    expect(html).toContain('<th class="row-head">mu_init=randn mu_std=1</th>');

    // Images inline as PNG data URIs: samples ×4, μ ×3 (run 3's μ file is unreadable and says so instead).
    expect(count(html, /<img src="data:image\/png;base64,/g)).toBe(7);
    expect(html).toContain(`image not readable: ${f.missingUri}`);
    expect(r.stdout).toContain('image not readable');

    // Charts: ‖μ‖, loss, bits/dim, class-consistency, and 3 confusion matrices (run 3 has none), all inline SVG.
    expect(count(html, /<svg /g)).toBe(4 + 3);
    expect(html).toContain('no confusion matrix recorded');
    for (const label of ['‖μ‖ over training, one line per variant', 'training loss per variant', 'held-out NLL per variant', 'class-consistency per variant']) {
      expect(html).toContain(`aria-label="${label}"`);
    }
    // One line per variant in the ‖μ‖ chart: vega draws each series as its own path in the line mark's group.
    const mu = html.slice(html.indexOf('aria-label="‖μ‖ over training'), html.indexOf('<h2>Loss curves'));
    const lines = mu.match(/<path aria-label="[^"]*variant: ([^"]+)" role="graphics-symbol" aria-roledescription="line mark"/g) ?? [];
    expect(lines.map((l) => /variant: ([^"]+)"/.exec(l)?.[1])).toEqual([
      'mu_init=zero lr_scale=1',
      'mu_init=zero lr_scale=0.1',
      'mu_init=randn mu_std=1 lr_scale=1',
      'mu_init=randn mu_std=1 lr_scale=0.1',
    ]);
    // The user's text is escaped.
    expect(html).toContain('μ init × prior lr scale &lt;test&gt;');
  });

  it('an unknown sweep is a clear exit-2 error naming the sweeps there; nothing is written', () => {
    const f = twoByTwoSweep();
    const out = path.join(f.dir, 'out');
    const r = runReport(['nope', '--out', out], { SWEEP_DB: f.db });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`no sweep "nope" in ${f.db} (sweeps there: prior-grid)`);
    expect(existsSync(out)).toBe(false);
  });

  it('no database, or no sweep argument: usage errors without a stack', () => {
    const f = twoByTwoSweep();
    const missing = runReport(['prior-grid'], { SWEEP_DB: path.join(f.dir, 'none.db') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no sweep database at');
    const none = runReport([], { SWEEP_DB: f.db });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^expected one sweep id or name\nusage: pnpm report/);
    expect(none.stderr).not.toMatch(/\n\s+at /);
  });

  it('a seeded sweep leads with mean ± 95% CI per variant and the paired comparison against the baseline, with verdicts', () => {
    const f = seededSweep();
    const out = path.join(f.dir, 'out');
    const r = runReport(['prior-seeds', '--out', out], { SWEEP_DB: f.db });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const html = readFileSync(path.join(out, 'prior-seeds.html'), 'utf8');
    expect(html).toContain('Results over seeds: mean ± 95% CI');
    const seedTable = html.slice(html.indexOf('<table class="results seed-results">'), html.indexOf('</table>', html.indexOf('seed-results')));
    expect(count(seedTable, /<tr>/g)).toBe(1 + 3); // header + one row per variant
    expect(seedTable).toContain('mu_init=zero <span class="ci">(baseline)</span>');
    expect(seedTable).toContain('(n = 4)');
    expect(seedTable).toMatch(/0: \d+\.\d%, 1: \d+\.\d%, 2: \d+\.\d%, 3: \d+\.\d%/); // per-seed values
    // Judges: held-out accuracy beside the consistency figures, and why the judges' mean leads.
    expect(html).toContain('<b>deep</b> 80.0% on held-out digits, <b>shallow</b> 90.0% on held-out digits');
    expect(html).toContain("judges' mean class-consistency of raw samples");

    const cmp = html.slice(html.indexOf('<table class="results comparisons">'), html.indexOf('</table>', html.indexOf('comparisons">')));
    const row = (variant: string, metric: string) => cmp.split('</tr>').find((tr) => tr.includes(`>${variant}<`) && tr.includes(`>${metric}<`)) ?? '';
    // randn − zero accuracy: +0.05 + seed·0.001 → +5.2 pt on average, every pair higher.
    expect(row('mu_init=randn', 'Flow accuracy (one pass, held-out digits)')).toContain('+5.2 pt');
    expect(row('mu_init=randn', 'Flow accuracy (one pass, held-out digits)')).toContain('<span class="verdict higher">higher</span>');
    // data − zero consistency: ±1 point alternating → mean 0, not detectable with 4 pairs.
    expect(row('mu_init=data', 'Class-consistency, raw samples, T = 1.0, judges’ mean')).toMatch(
      /no difference detected with n = 4 seeds \(smallest detectable ≈ \d+\.\d pt\)/,
    );
    // Curves with bands and one dot-and-interval chart per headline metric present in the data.
    for (const label of ['mu_norm', 'loss', 'eval/nll', 'eval/consistency/raw/t1.0'])
      expect(html).toContain(`aria-label="${label} over training, mean and 95% band per variant"`);
    expect(count(html, /per seed, mean and 95% CI per variant"/g)).toBe(9);
  });
});
