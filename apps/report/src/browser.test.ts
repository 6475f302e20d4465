import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, runReport, seededSweep, twoByTwoSweep } from './test-utils/fixture';

/** Debian's chromium (`apt-get install chromium`; .ci/run and scripts/setup.sh install it). Override with CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots the tests keep (gitignored; CI can collect the folder). */
export const TEST_ARTIFACTS = path.join(REPO, 'test-artifacts');

describe('the report in a real browser (headless Chromium)', () => {
  it('opens from the file system with no console errors, and every image and chart renders', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH`);
    const f = twoByTwoSweep();
    const out = path.join(f.dir, 'out');
    expect(runReport(['grid', '--out', out], { SWEEP_DB: f.db }).code).toBe(0); // by sweep id this time
    const file = path.join(out, 'prior-grid.html');

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`, { waitUntil: 'load' });

      // Every image decoded to real pixels.
      const images = await page.$$eval('img', (els) =>
        els.map((e) => ({
          alt: e.getAttribute('alt') ?? '',
          ok: (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0,
          w: e.getBoundingClientRect().width,
        })),
      );
      expect(images).toHaveLength(7);
      for (const img of images) expect({ alt: img.alt, ok: img.ok, visible: img.w > 0 }).toEqual({ alt: img.alt, ok: true, visible: true });

      // Every chart laid out with real size and real marks (lines / heatmap cells).
      const charts = await page.$$eval('.chart', (els) =>
        els.map((e) => {
          const svg = e.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            label: e.getAttribute('aria-label') ?? '',
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            marks: svg?.querySelectorAll('[aria-roledescription="line mark"], [aria-roledescription="rect mark"]').length ?? 0,
          };
        }),
      );
      expect(charts).toHaveLength(4 + 3);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(150);
        expect(c.height).toBeGreaterThan(150);
        expect({ label: c.label, hasMarks: c.marks > 0 }).toEqual({ label: c.label, hasMarks: true });
      }
      // The ‖μ‖ chart: one drawn line per variant.
      expect(charts[0]?.marks).toBe(4);

      expect(problems).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'))).toEqual([]); // nothing fetched from a network

      mkdirSync(TEST_ARTIFACTS, { recursive: true });
      const shot = path.join(TEST_ARTIFACTS, 'report-prior-grid.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('a seeded sweep: error bars (95% CI) and per-seed points on every headline chart, bands on the curves, the comparison table', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH`);
    const f = seededSweep();
    const out = path.join(f.dir, 'out');
    expect(runReport(['prior-seeds', '--out', out], { SWEEP_DB: f.db }).code).toBe(0);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(`file://${path.join(out, 'prior-seeds.html')}`, { waitUntil: 'load' });
      const charts = await page.$$eval('.chart', (els) =>
        els.map((e) => {
          const svg = e.querySelector('svg');
          const count = (sel: string) => svg?.querySelectorAll(sel).length ?? 0;
          return {
            label: e.getAttribute('aria-label') ?? '',
            width: svg?.getBoundingClientRect().width ?? 0,
            // Vega writes a mark's description as the aria-label of each of its items (rules, ticks, points).
            ci: count('[aria-label="ci"]'),
            seeds: count('[aria-label="seed"]'),
            bands: count('[aria-roledescription="area mark"]'),
          };
        }),
      );
      const dots = charts.filter((c) => c.label.endsWith('per seed, mean and 95% CI per variant'));
      expect(dots).toHaveLength(9);
      for (const d of dots) {
        expect(d.width).toBeGreaterThan(150);
        // One interval per variant that has a spread (the agreement is the same in every run: an interval of zero width still draws).
        expect({ label: d.label, ci: d.ci, seeds: d.seeds }).toEqual({ label: d.label, ci: 3, seeds: 12 });
      }
      const bands = charts.filter((c) => c.label.endsWith('mean and 95% band per variant'));
      expect(bands).toHaveLength(4);
      for (const b of bands) expect({ label: b.label, hasBands: b.bands > 0 }).toEqual({ label: b.label, hasBands: true });
      const verdicts = await page.$$eval('table.comparisons .verdict', (els) => els.map((e) => e.textContent ?? ''));
      expect(verdicts.length).toBe(2 * 9);
      expect(verdicts).toContain('higher');
      expect(problems).toEqual([]);
      mkdirSync(TEST_ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(TEST_ARTIFACTS, 'report-prior-seeds.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
