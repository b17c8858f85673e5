import { describe, expect, it } from 'vitest';
import { driftVerdict, judgeDecay } from '../../src/domain/decay';
import type { FeatureDrift } from '../../src/domain/driftPolicy';
import type { DriftReport } from '../../src/reports/driftReport';
import { renderDriftReport } from '../../src/reports/driftReportHtml';
import { escapeHtml } from '../../src/reports/validationReportHtml';
import { DriftPolicy } from '../../src/schemas/monitoring';
import { HOSTILE } from '../support/validationReports';

const policy = DriftPolicy.parse({});
const metrics = (rmse: number, mae: number, r2: number, n: number) => ({ rmse, mae, r2, n });

describe('judgeDecay', () => {
  it('errors: decayed above evaluated × (1 + decayRelative), not at or below it', () => {
    expect(judgeDecay('rmse', 1000, metrics(1200.5, 0, 0, 500), policy)).toMatchObject({ decayed: true, current: 1200.5, evaluated: 1000, feedbackRows: 500 });
    expect(judgeDecay('rmse', 1000, metrics(1200, 0, 0, 500), policy).decayed).toBe(false);
    expect(judgeDecay('mae', 10, metrics(0, 13, 0, 100), { decayRelative: 0.25, minFeedbackRows: 100 }).decayed).toBe(true);
    expect(judgeDecay('mae', 10, metrics(0, 12.4, 0, 100), { decayRelative: 0.25, minFeedbackRows: 100 }).decayed).toBe(false);
  });

  it('R²: decayed below evaluated − decayRelative × |evaluated|, also for a negative R²', () => {
    expect(judgeDecay('r2', 0.9, metrics(0, 0, 0.71, 200), policy).decayed).toBe(true); // limit 0.72
    expect(judgeDecay('r2', 0.9, metrics(0, 0, 0.73, 200), policy).decayed).toBe(false);
    expect(judgeDecay('r2', -0.5, metrics(0, 0, -0.61, 200), policy).decayed).toBe(true); // limit -0.6
  });

  it('is not judged with too little ground truth or nothing to compare with', () => {
    expect(judgeDecay('rmse', 1000, metrics(5000, 0, 0, 99), policy)).toMatchObject({ decayed: null, reason: expect.stringContaining('fewer than 100') });
    expect(judgeDecay('rmse', 1000, null, policy)).toMatchObject({ decayed: null, feedbackRows: 0, current: null });
    expect(judgeDecay('rmse', null, metrics(5000, 0, 0, 500), policy)).toMatchObject({ decayed: null, reason: expect.stringContaining('no evaluated rmse') });
  });
});

describe('driftVerdict', () => {
  const base = { currentRows: 500, minCurrentRows: 100 };
  it('drifted on dataset drift or decay, ok only when judged with enough rows', () => {
    expect(driftVerdict({ ...base, datasetDrift: true, decayed: null })).toBe('drifted');
    expect(driftVerdict({ ...base, datasetDrift: false, decayed: true })).toBe('drifted');
    expect(driftVerdict({ ...base, datasetDrift: false, decayed: false })).toBe('ok');
    expect(driftVerdict({ ...base, datasetDrift: false, decayed: null })).toBe('ok');
  });
  it('says not-enough-data, never ok, below minCurrentRows (decay still counts)', () => {
    expect(driftVerdict({ currentRows: 99, minCurrentRows: 100, datasetDrift: null, decayed: null })).toBe('not-enough-data');
    expect(driftVerdict({ currentRows: 99, minCurrentRows: 100, datasetDrift: null, decayed: false })).toBe('not-enough-data');
    expect(driftVerdict({ currentRows: 99, minCurrentRows: 100, datasetDrift: null, decayed: true })).toBe('drifted');
  });
});

const quality = (unseen: string[] = []) => ({ missingShare: { reference: 0.01, current: 0.2 }, outOfDomainShare: null, unseenCategoryShare: unseen.length ? 0.3 : null, unseenCategories: unseen });
const numeric = (feature: string, drifted: boolean): FeatureDrift => ({
  feature, kind: 'numeric', test: 'wasserstein', statistic: drifted ? 0.8 : 0.02, pValue: null, threshold: 0.1, drifted, psi: 0.4, approximationError: 0,
  quality: { ...quality(), outOfDomainShare: 0.25 },
  histogram: { bins: [0, 10, 20, 30, 40], reference: [10, 20, 30, 40], current: [40, 30, 20, 10] },
});
const categorical = (feature: string, categories: string[]): FeatureDrift => ({
  feature, kind: 'categorical', test: 'jensen-shannon', statistic: 0.3, pValue: null, threshold: 0.1, drifted: true, psi: 1.2, approximationError: 0,
  quality: quality([HOSTILE.script]), histogram: { bins: categories, reference: categories.map(() => 5), current: categories.map((_, i) => i) },
});

function sampleReport(): DriftReport {
  const features = [numeric(HOSTILE.attribute, true), categorical(HOSTILE.quotes, [HOSTILE.script, HOSTILE.style, 'plain']), numeric('steady', false)];
  return {
    modelName: 'cars',
    verdict: 'drifted',
    summary: `drifted: 2 of 3 features drifted (${HOSTILE.comment})`,
    reference: { version: 3, datasetSha256: 'a'.repeat(64), rows: 2000 },
    current: { source: 'prediction-log', windowStart: '2026-11-25T00:00:00.000Z', windowEnd: '2026-11-26T00:00:00.000Z', rows: 1000 },
    drift: { rows: { reference: 2000, current: 1000 }, enoughData: true, features, driftedFeatures: [HOSTILE.attribute, HOSTILE.quotes], share: 2 / 3, datasetDrift: true, findings: [`${HOSTILE.script}: unseen`] },
    prediction: { ...numeric('prediction', false) },
    decay: judgeDecay('rmse', 1000, metrics(1500, 0, 0, 300), policy),
    policy,
    generatedAt: '2026-11-26T00:00:01.000Z',
  };
}

describe('renderDriftReport', () => {
  const html = renderDriftReport(sampleReport());
  const ALLOWED_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'main', 'h1', 'h2', 'h3', 'p', 'span', 'strong', 'table', 'tr', 'th', 'td', 'code', 'div', 'svg', 'rect', 'text', 'ul', 'li']);

  it('is one self-contained document with a CSP: no script, no external resource, only its own tags', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:|\/\/|javascript:)/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][\w:-]*)/g)].map((m) => m[1].toLowerCase()));
    expect([...tags].filter((t) => !ALLOWED_TAGS.has(t))).toEqual([]);
  });

  it('shows hostile feature names, categories, findings and summary as text', () => {
    for (const text of [HOSTILE.attribute, HOSTILE.quotes, HOSTILE.comment]) expect(html).toContain(escapeHtml(text));
    expect(html).not.toContain(HOSTILE.attribute);
    expect(html).not.toContain('onerror=alert(1)>');
    expect(html).not.toContain(HOSTILE.style);
  });

  it('draws reference and current side by side for every feature and the prediction, with numeric bins labelled by their edges', () => {
    // 3 features + prediction: numeric ones have 4 bins, the categorical one 3 categories; two bars per bin.
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html.match(/<rect /g)).toHaveLength(2 * (4 + 3 + 4 + 4));
    expect(html).toContain('0 – 10: reference 10.0%, this dataset 40.0%');
  });

  it('states the verdict, the decay and the data quality', () => {
    expect(html).toContain('>Drifted<');
    expect(html).toContain('decayed');
    expect(html).toContain('1,500'); // rmse on feedback
    expect(html).toContain('20%'); // current missing share
    expect(html).toContain('25%'); // outside the reference's range
  });

  it('says "Not enough data" and why when the drift was not judged', () => {
    const thin = renderDriftReport({ ...sampleReport(), verdict: 'not-enough-data', drift: null, prediction: null });
    expect(thin).toContain('Not enough data');
    expect(thin).toContain('fewer than 100');
    expect(thin).not.toContain('<svg ');
  });
});
