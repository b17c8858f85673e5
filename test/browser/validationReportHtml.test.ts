import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderValidationReport } from '../../src/reports/validationReportHtml';
import { HOSTILE, sampleReport } from '../support/validationReports';
import { launchChromium } from './chromium';

/**
 * The validation report as an approver sees it: the stored HTML opened from a file in a real Chromium.
 * Charts must draw, names from users' files must read as text, and nothing may run or fail to load.
 */

let browser: Browser;
let dir: string;

beforeAll(async () => {
  browser = await launchChromium();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-report-'));
});
afterAll(async () => {
  await browser?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Opens the rendered report from a file:// URL, recording console errors, page errors and dialogs. */
async function open(name: string, html: string): Promise<{ page: Page; problems: string[] }> {
  const file = path.join(dir, `${name}.html`);
  await fs.writeFile(file, html);
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems };
}

describe('the validation report in a browser', () => {
  it('draws its histograms, shows hostile names as text and runs nothing', async () => {
    const { page, problems } = await open('sample', renderValidationReport(sampleReport()));

    const heights = await page.locator('svg[aria-label^="Histogram of"] rect').evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().height));
    expect(heights.length).toBeGreaterThan(0);
    expect(heights.filter((h) => h > 0).length).toBeGreaterThan(heights.length / 2);
    const skewBars = await page.locator('svg[aria-label^="Reference and current shares"] rect').evaluateAll((rects) => rects.filter((r) => r.getBoundingClientRect().height > 0).length);
    expect(skewBars).toBeGreaterThan(0);

    // The column named like a script tag is a heading whose text is exactly that name.
    const headings = await page.locator('h3').allTextContents();
    expect(headings).toContain(HOSTILE.script);
    expect(headings).toContain(HOSTILE.attribute);
    expect(headings).toContain(HOSTILE.style);
    expect(await page.locator('th', { hasText: HOSTILE.script }).count()).toBe(1);
    // Nothing from the data became an element, a style or an event handler.
    // A string, evaluated in the page (this project compiles without the DOM's types).
    const dom = await page.evaluate(`({
      scripts: document.scripts.length,
      images: document.images.length,
      styles: document.querySelectorAll('style').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
      bodyShown: getComputedStyle(document.body).display !== 'none',
    })`);
    expect(dom).toEqual({ scripts: 0, images: 0, styles: 1, handlers: 0, bodyShown: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('renders a report of 1,000 columns', async () => {
    const { page, problems } = await open('wide', renderValidationReport(sampleReport({ columns: 1000 })));
    expect(await page.locator('svg[aria-label^="Histogram of"]').count()).toBe(500);
    expect(await page.locator('svg[aria-label^="Top categories of"]').count()).toBe(500);
    expect(problems).toEqual([]);
    await page.close();
  });
});
