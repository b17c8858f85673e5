import { describe, expect, it } from 'vitest';
import { MAX_TEXT, escapeHtml, renderValidationReport } from '../../src/reports/validationReportHtml';
import { HOSTILE, sampleReport } from '../support/validationReports';

/** The elements the page is made of; anything else in the output came from the data. */
const ALLOWED_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'main', 'h1', 'h2', 'h3', 'p', 'span', 'strong', 'table', 'tr', 'th', 'td', 'code', 'a', 'div', 'svg', 'rect', 'text']);
const tagsOf = (html: string) => new Set([...html.matchAll(/<\/?([a-zA-Z][\w:-]*)/g)].map((m) => m[1].toLowerCase()));

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;amp;&#60;/a&#62;');
  });

  it('cuts long text with an ellipsis, never inside a surrogate pair', () => {
    expect(escapeHtml('a'.repeat(500))).toBe(`${'a'.repeat(MAX_TEXT - 1)}…`);
    const emoji = `${'a'.repeat(MAX_TEXT - 2)}😀😀`;
    expect(escapeHtml(emoji)).toBe(`${'a'.repeat(MAX_TEXT - 2)}…`);
    expect(escapeHtml('<'.repeat(500), 10)).toBe(`${'&#60;'.repeat(9)}…`);
    expect(escapeHtml(null)).toBe('');
  });
});

describe('renderValidationReport', () => {
  const report = sampleReport();
  const html = renderValidationReport(report);

  it('is one self-contained document: no script, no external resource, a CSP that forbids both', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:|\/\/|javascript:)/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect([...tagsOf(html)].filter((t) => !ALLOWED_TAGS.has(t))).toEqual([]);
  });

  it('shows hostile names and values as text', () => {
    for (const text of Object.values(HOSTILE)) expect(html).toContain(escapeHtml(text));
    expect(html).not.toContain(HOSTILE.attribute);
    expect(html).not.toContain('onerror=alert(1)>');
    // Attributes hold no unescaped quote from the data: every attribute value is well delimited.
    for (const [, value] of html.matchAll(/ aria-label="([^"]*)"/g)) expect(value).not.toMatch(/[<>]/);
  });

  it('cuts very long names and values, so the page stays small', () => {
    expect(html).not.toContain('x'.repeat(MAX_TEXT));
    expect(html).toContain(`${'x'.repeat(MAX_TEXT - 1)}…`);
    expect(html.length).toBeLessThan(200_000);
  });

  it('reports the dataset, the verdict, the policies and the thresholds', () => {
    expect(html).toContain('abababababab');
    expect(html).toContain('<span class="verdict fail">Failed</span>');
    expect(html).toContain('1 error(s), 2 warning(s)');
    expect(html).toContain('Rows dropped: <strong>12</strong>');
    expect(html).toMatch(/Usable rows<\/th><td>988/);
    expect(html).toContain('maxMissingRate</th><td>0.2<');
    expect(renderValidationReport({ ...report, passed: true })).toContain('<span class="verdict pass">Passed</span>');
  });

  it('lists errors before warnings', () => {
    const severities = [...html.matchAll(/<td class="k (error|warning)">(error|warning)<\/td><td><code>/g)].map((m) => m[2]);
    expect(severities).toEqual(['error', 'warning', 'warning']);
  });

  it('draws every non-empty histogram bin with a positive height, empty bins with none', () => {
    const firstChart = html.slice(html.indexOf('aria-label="Histogram of'), html.indexOf('</svg>', html.indexOf('aria-label="Histogram of')));
    const heights = [...firstChart.matchAll(/<rect [^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    const counts = report.profile.columns[0].numeric!.histogram.counts;
    expect(heights).toHaveLength(counts.length);
    heights.forEach((h, i) => expect(h > 0, `bin ${i}`).toBe(counts[i] > 0));
    expect(heights[17]).toBeGreaterThanOrEqual(1); // a single value still shows
  });

  it('has a skew section only when there is a production model to compare with', () => {
    expect(html).toContain('Skew against the production model’s dataset');
    expect(html).toMatch(/PSI [\d.]+ · JS [\d.]+/);
    expect(renderValidationReport(sampleReport({ skew: false }))).not.toContain('Skew against');
  });

  it('shows a dash for numbers a stored report lost (NaN and ∞ are null in JSON)', () => {
    const broken = structuredClone(report);
    broken.profile.columns[0].numeric!.mean = null as unknown as number;
    broken.profile.columns[0].numeric!.std = Number.NaN;
    expect(renderValidationReport(broken)).toMatch(/<td class="n">—<\/td>/);
  });

  it('renders 1,000 columns in well under a second, at a bounded size', () => {
    const big = sampleReport({ columns: 1000 });
    const started = performance.now();
    const page = renderValidationReport(big);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(500);
    expect(page.length / 1000).toBeLessThan(8_000); // bytes per column, on average
    expect(page).not.toMatch(/<script/i);
  });
});
