import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createWorld, destroyWorld, REPO, SCRIPTS, start, waitFor, type World } from '@ablate/test-utils';

/** Debian's chromium (`apt-get install chromium`; scripts/setup.sh installs it). Override with CHROMIUM_PATH. Never downloaded. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TEST_ARTIFACTS = path.join(REPO, 'test-artifacts');

let world: World;
afterEach(async () => {
  await destroyWorld(world);
});

describe('pnpm ui in a real browser during a real sweep', () => {
  it('shows a run step advancing and its loss curve gaining points, pushed, without a reload', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH`);
    world = createWorld('ablate-ui-e2e-');
    // The sweep is submitted (runs queued, nobody training) before the page opens: all progress arrives live.
    const submit = start(world, SCRIPTS.sweep, [path.join(REPO, 'sweeps', 'smoke.yaml'), '--detach']);
    expect((await submit.exited).code).toBe(0);
    const ui = start(world, SCRIPTS.ui, ['--port', '0']);
    const url = await waitFor('the ui to listen', () => ui.output().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1], 30_000);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      const offsite: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(url) && !r.url().startsWith('data:')) offsite.push(r.url());
      });
      let navigations = 0;
      page.on('framenavigated', (fr) => {
        if (fr === page.mainFrame()) navigations += 1;
      });
      await page.goto(`${url}/#/sweep/smoke`, { waitUntil: 'load' });
      await page.waitForSelector('#chart-loss svg');
      await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads
      expect(await page.$$eval('tr.run', (rows) => rows.map((r) => r.querySelector('.status')?.textContent))).toEqual(['queued', 'queued']);

      // Now the recorder and one worker: the page must follow the runs by itself.
      start(world, SCRIPTS.recorder);
      start(world, SCRIPTS.worker);
      const seenSteps = new Set<number>();
      const seenPoints = new Set<number>();
      let shotWhileRunning = false;
      const t0 = Date.now();
      while (Date.now() - t0 < 240_000) {
        const s = await page.evaluate(() => ({
          step: Number(document.querySelector('tr.run[data-run] .stepnum')?.textContent ?? 0),
          points: Number(document.getElementById('chart-loss')?.dataset.points ?? 0),
          statuses: Array.from(document.querySelectorAll('tr.run .status')).map((e) => e.textContent),
          images: document.querySelectorAll('#images img').length,
        }));
        if (s.step > 0) seenSteps.add(s.step);
        if (s.points > 0) seenPoints.add(s.points);
        if (s.statuses[0] === 'succeeded' && s.images > 0) break; // the first run is done: its whole curve has arrived
        if (!shotWhileRunning && s.statuses.includes('running') && s.images > 0) {
          shotWhileRunning = true;
          mkdirSync(TEST_ARTIFACTS, { recursive: true });
          await page.screenshot({ path: path.join(TEST_ARTIFACTS, 'ui-smoke-running.png'), fullPage: true });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await page.$eval('tr.run .status', (e) => e.textContent)).toBe('succeeded');
      // The first run's step advanced through at least two values, and the loss curve grew at least twice.
      expect(seenSteps.size).toBeGreaterThanOrEqual(2);
      expect(Math.max(...seenSteps)).toBe(20);
      expect(seenPoints.size).toBeGreaterThanOrEqual(2);
      // At least the first run's 4 loss points (every 5 of 20 steps), drawn as a line.
      expect(await page.$eval('#chart-loss', (e) => Number((e as HTMLElement).dataset.points))).toBeGreaterThanOrEqual(4);
      expect(await page.$$eval('#chart-loss [aria-roledescription="line mark"]', (els) => els.length)).toBeGreaterThanOrEqual(1);
      // Images arrived too, and decode.
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('#images img')).some((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0),
      );
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
      expect(navigations).toBe(1);
      await page.click('tr.run[data-run]');
      await page.waitForSelector('#runlog-lines');
      expect(await page.textContent('#runlog-lines')).toContain('succeeded');
      expect(problems).toEqual([]);
      expect(offsite).toEqual([]); // vega, vega-lite, vega-embed came from node_modules, nothing from a network

      mkdirSync(TEST_ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(TEST_ARTIFACTS, 'ui-smoke.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
