import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, runReport, twoByTwoSweep } from './test-utils/fixture';

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

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
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
      const images = await page.$$eval('img', (els) => els.map((e) => ({ alt: e.getAttribute('alt') ?? '', ok: (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0, w: e.getBoundingClientRect().width })));
      expect(images).toHaveLength(7);
      for (const img of images) expect({ alt: img.alt, ok: img.ok, visible: img.w > 0 }).toEqual({ alt: img.alt, ok: true, visible: true });

      // Every chart laid out with real size and real marks (lines / heatmap cells).
      const charts = await page.$$eval('.chart', (els) =>
        els.map((e) => {
          const svg = e.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return { label: e.getAttribute('aria-label') ?? '', width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('[aria-roledescription="line mark"], [aria-roledescription="rect mark"]').length ?? 0 };
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
});
