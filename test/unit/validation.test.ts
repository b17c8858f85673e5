import { describe, it, expect } from 'vitest';
import type { RawTable } from '../../src/domain/schema';
import { DEFAULT_THRESHOLDS, validateDataset, type Finding } from '../../src/domain/validation';

function table(header: string[], columns: string[][]): RawTable {
  return { header, columns, rowCount: columns[0]?.length ?? 0 };
}

/** n distinct numbers as strings: "1", "2", ... */
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

const errors = (findings: Finding[]) => findings.filter((f) => f.severity === 'error');
const warnings = (findings: Finding[]) => findings.filter((f) => f.severity === 'warning');
const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

/** A clean 20-row dataset: price (target), km (numeric), fuel (categorical). */
function clean(): RawTable {
  return table(
    ['price', 'km', 'fuel'],
    [seq(20, 100), seq(20, 1), Array.from({ length: 20 }, (_, i) => (i % 2 ? 'diesel' : 'petrol'))],
  );
}

describe('validateDataset: a clean dataset', () => {
  it('passes with no findings and profiles each used column', () => {
    const report = validateDataset(clean(), { target: 'price', features: ['km', 'fuel'] });
    expect(report.findings).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.rowCount).toBe(20);
    expect(report.profiles.map((p) => p.name)).toEqual(['price', 'km', 'fuel']);
    const km = report.profiles.find((p) => p.name === 'km')!;
    // km = 1..20: min 1, max 20, mean 10.5
    expect(km).toMatchObject({ type: 'numeric', missing: 0, missingRate: 0, distinct: 20, min: 1, max: 20, mean: 10.5 });
    const fuel = report.profiles.find((p) => p.name === 'fuel')!;
    expect(fuel).toMatchObject({ type: 'categorical', missing: 0, distinct: 2 });
    expect(fuel.min).toBeUndefined();
    expect(fuel.mean).toBeUndefined();
  });

  it('uses documented default thresholds', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ minRows: 10, maxMissingRate: 0.5, warnMissingRate: 0.05 });
  });
});

describe('validateDataset: structural checks', () => {
  it('reports a duplicate header once, naming it', () => {
    const t = table(['price', 'km', 'km', 'km'], [seq(20), seq(20), seq(20), seq(20)]);
    const report = validateDataset(t, { target: 'price', features: ['km'] });
    const dup = byCheck(report.findings, 'duplicate-column');
    expect(dup).toHaveLength(1);
    expect(dup[0]).toMatchObject({ severity: 'error', column: 'km' });
    expect(dup[0].message).toContain('"km"');
    expect(report.passed).toBe(false);
  });

  it('refuses too few rows with the actual and needed counts', () => {
    const t = table(['price', 'km'], [seq(9, 10), seq(9)]);
    const report = validateDataset(t, { target: 'price', features: ['km'] });
    const rc = byCheck(report.findings, 'row-count');
    expect(rc).toHaveLength(1);
    expect(rc[0].severity).toBe('error');
    expect(rc[0].message).toContain('9 data rows');
    expect(rc[0].message).toContain('at least 10');
    expect(report.passed).toBe(false);
  });

  it('accepts exactly minRows rows', () => {
    const t = table(['price', 'km'], [seq(10, 10), seq(10)]);
    const report = validateDataset(t, { target: 'price', features: ['km'] });
    expect(byCheck(report.findings, 'row-count')).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('honours a custom minRows threshold', () => {
    const t = table(['price', 'km'], [seq(3, 10), seq(3)]);
    expect(validateDataset(t, { target: 'price', features: ['km'], thresholds: { minRows: 3 } }).passed).toBe(true);
    expect(validateDataset(t, { target: 'price', features: ['km'], thresholds: { minRows: 4 } }).passed).toBe(false);
  });

  it('names a missing target column and lists the available ones', () => {
    const report = validateDataset(clean(), { target: 'cost', features: ['km'] });
    const missing = byCheck(report.findings, 'missing-column');
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ severity: 'error', column: 'cost' });
    expect(missing[0].message).toContain('target column "cost"');
    expect(missing[0].message).toContain('price, km, fuel');
    expect(report.passed).toBe(false);
    // the absent column is not profiled
    expect(report.profiles.map((p) => p.name)).toEqual(['km']);
  });

  it('names each missing feature column', () => {
    const report = validateDataset(clean(), { target: 'price', features: ['km', 'year', 'color'] });
    const missing = byCheck(report.findings, 'missing-column');
    expect(missing.map((f) => f.column)).toEqual(['year', 'color']);
    expect(missing[0].message).toContain('feature column "year"');
    expect(missing[1].message).toContain('feature column "color"');
    expect(missing[1].message).toContain('price, km, fuel');
  });
});

describe('validateDataset: type checks', () => {
  it('reports non-numbers in a numeric feature with 1-based row numbers and quoted values', () => {
    // 19 numbers + 1 word → the column is numeric (95%), the word is an error.
    const km = seq(20);
    km[6] = '12k'; // 7th data row
    const t = table(['price', 'km'], [seq(20, 100), km]);
    const report = validateDataset(t, { target: 'price', features: ['km'] });
    const mismatch = byCheck(report.findings, 'type-mismatch');
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]).toMatchObject({ severity: 'error', column: 'km' });
    expect(mismatch[0].message).toContain('"km"');
    expect(mismatch[0].message).toContain('1 value(s)');
    expect(mismatch[0].message).toContain('row 7: "12k"');
    expect(report.passed).toBe(false);
    // profile statistics ignore the non-number: 1..20 without 7 → sum 203, 19 values
    const profile = report.profiles.find((p) => p.name === 'km')!;
    expect(profile.min).toBe(1);
    expect(profile.max).toBe(20);
    expect(profile.mean).toBeCloseTo(203 / 19, 12);
  });

  it('numbers the first data row as row 1', () => {
    const km = seq(20);
    km[0] = 'oops';
    const report = validateDataset(table(['price', 'km'], [seq(20, 100), km]), { target: 'price', features: ['km'] });
    expect(byCheck(report.findings, 'type-mismatch')[0].message).toContain('row 1: "oops"');
  });

  it('shows at most five examples then an ellipsis, with the full count', () => {
    // 120 numbers + 6 words: 120/126 ≈ 95.2% → numeric.
    const km = [...seq(120), 'a', 'b', 'c', 'd', 'e', 'f'];
    const t = table(['price', 'km'], [seq(126, 1000), km]);
    const report = validateDataset(t, { target: 'price', features: ['km'] });
    const msg = byCheck(report.findings, 'type-mismatch')[0].message;
    expect(msg).toContain('6 value(s)');
    expect(msg).toContain('row 121: "a", row 122: "b", row 123: "c", row 124: "d", row 125: "e", ...');
    expect(msg).not.toContain('"f"');
  });

  it('refuses a text target, quoting example values', () => {
    const target = Array.from({ length: 20 }, (_, i) => ['cheap', 'mid', 'dear'][i % 3]);
    const report = validateDataset(table(['price', 'km'], [target, seq(20)]), { target: 'price', features: ['km'] });
    const tt = byCheck(report.findings, 'target-type');
    expect(tt).toHaveLength(1);
    expect(tt[0]).toMatchObject({ severity: 'error', column: 'price' });
    expect(tt[0].message).toContain('"cheap", "mid", "dear"');
    expect(report.passed).toBe(false);
  });

  it('refuses a target with missing values, naming the rows', () => {
    const target = seq(20, 100);
    target[2] = '';
    target[9] = 'NA';
    const report = validateDataset(table(['price', 'km'], [target, seq(20)]), { target: 'price', features: ['km'] });
    const tm = byCheck(report.findings, 'target-missing');
    expect(tm).toHaveLength(1);
    expect(tm[0].severity).toBe('error');
    expect(tm[0].message).toContain('2 row(s)');
    expect(tm[0].message).toContain('row 3: ""');
    expect(tm[0].message).toContain('row 10: "NA"');
    expect(report.passed).toBe(false);
  });

  it('does not apply the feature missing-rate rule to the target (it has its own error)', () => {
    const target = seq(20, 100);
    target[0] = '';
    const report = validateDataset(table(['price', 'km'], [target, seq(20)]), { target: 'price', features: ['km'] });
    expect(byCheck(report.findings, 'missing-rate')).toEqual([]);
  });

  it('refuses a constant target', () => {
    const report = validateDataset(table(['price', 'km'], [Array(20).fill('5'), seq(20)]), { target: 'price', features: ['km'] });
    const tc = byCheck(report.findings, 'target-constant');
    expect(tc).toHaveLength(1);
    expect(tc[0].message).toContain('(5)');
    expect(report.passed).toBe(false);
  });

  it('does not call a target with two distinct values constant', () => {
    const target = Array(20).fill('5');
    target[19] = '6';
    const report = validateDataset(table(['price', 'km'], [target, seq(20)]), { target: 'price', features: ['km'] });
    expect(byCheck(report.findings, 'target-constant')).toEqual([]);
    expect(report.passed).toBe(true);
  });
});

describe('validateDataset: missing-rate thresholds (strictly greater than)', () => {
  function withMissing(count: number): RawTable {
    const km = seq(20);
    for (let i = 0; i < count; i++) km[i] = '';
    return table(['price', 'km'], [seq(20, 100), km]);
  }
  const run = (count: number) => validateDataset(withMissing(count), { target: 'price', features: ['km'] });

  it('1 of 20 missing (5%, equal to the warning threshold): no finding', () => {
    const report = run(1);
    expect(report.findings).toEqual([]);
    expect(report.profiles.find((p) => p.name === 'km')!).toMatchObject({ missing: 1, missingRate: 0.05 });
  });

  it('2 of 20 missing (10%): a warning, still passes', () => {
    const report = run(2);
    expect(warnings(report.findings)).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ check: 'missing-rate', column: 'km' });
    expect(report.findings[0].message).toContain('10.0%');
    expect(report.passed).toBe(true);
  });

  it('10 of 20 missing (50%, equal to the error threshold): only a warning', () => {
    const report = run(10);
    expect(errors(report.findings)).toEqual([]);
    expect(byCheck(report.findings, 'missing-rate')[0].severity).toBe('warning');
    expect(report.passed).toBe(true);
  });

  it('11 of 20 missing (55%): an error naming the rate and the limit', () => {
    const report = run(11);
    const mr = byCheck(report.findings, 'missing-rate');
    expect(mr).toHaveLength(1);
    expect(mr[0].severity).toBe('error');
    expect(mr[0].message).toContain('55.0%');
    expect(mr[0].message).toContain('limit 50.0%');
    expect(report.passed).toBe(false);
  });

  it('custom thresholds are honoured', () => {
    const report = validateDataset(withMissing(2), {
      target: 'price',
      features: ['km'],
      thresholds: { maxMissingRate: 0.05 },
    });
    expect(byCheck(report.findings, 'missing-rate')[0].severity).toBe('error');
  });

  it('a feature with no values at all is an error', () => {
    const report = validateDataset(table(['price', 'km'], [seq(20, 100), Array(20).fill('')]), { target: 'price', features: ['km'] });
    expect(byCheck(report.findings, 'empty-column')).toHaveLength(1);
    expect(report.passed).toBe(false);
  });
});

describe('validateDataset: high cardinality', () => {
  it('warns on a categorical feature with >100 distinct values making up >50% of rows', () => {
    const ids = Array.from({ length: 150 }, (_, i) => `id-${i}`);
    const t = table(['price', 'vin'], [seq(150, 1000), ids]);
    const report = validateDataset(t, { target: 'price', features: ['vin'] });
    const hc = byCheck(report.findings, 'high-cardinality');
    expect(hc).toHaveLength(1);
    expect(hc[0]).toMatchObject({ severity: 'warning', column: 'vin' });
    expect(hc[0].message).toContain('150 distinct values in 150 rows');
    expect(report.passed).toBe(true);
  });

  it('does not warn at exactly 100 distinct values', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `id-${i}`);
    const report = validateDataset(table(['price', 'vin'], [seq(100, 1000), ids]), { target: 'price', features: ['vin'] });
    expect(byCheck(report.findings, 'high-cardinality')).toEqual([]);
  });

  it('does not warn when distinct values are at most half the rows', () => {
    // 101 distinct values over 202 rows: exactly 50%, not more.
    const ids = Array.from({ length: 202 }, (_, i) => `id-${i % 101}`);
    const report = validateDataset(table(['price', 'vin'], [seq(202, 1000), ids]), { target: 'price', features: ['vin'] });
    expect(byCheck(report.findings, 'high-cardinality')).toEqual([]);
  });

  it('does not warn on numeric features, however many distinct values', () => {
    const report = validateDataset(table(['price', 'km'], [seq(150, 1000), seq(150)]), { target: 'price', features: ['km'] });
    expect(report.findings).toEqual([]);
  });
});

describe('validateDataset: reference schema', () => {
  const reference = {
    columns: [
      { name: 'price', type: 'numeric' as const, nullable: false },
      { name: 'km', type: 'numeric' as const, nullable: false },
      { name: 'fuel', type: 'categorical' as const, nullable: false },
    ],
  };

  it('refuses a column that was numeric and now holds only text', () => {
    const km = Array.from({ length: 20 }, (_, i) => `${i}k`);
    const t = table(['price', 'km', 'fuel'], [seq(20, 100), km, Array(20).fill('diesel')]);
    const report = validateDataset(t, { target: 'price', features: ['km', 'fuel'], reference });
    const tc = byCheck(report.findings, 'type-changed');
    expect(tc).toHaveLength(1);
    expect(tc[0]).toMatchObject({ severity: 'error', column: 'km' });
    expect(tc[0].message).toContain('numeric');
    expect(tc[0].message).toContain('row 1: "0k"');
    expect(byCheck(report.findings, 'type-mismatch')).toEqual([]);
    expect(report.schema.columns.find((c) => c.name === 'km')!.type).toBe('numeric');
    expect(report.passed).toBe(false);
  });

  it('keeps the reference numeric type when a few values are text (reported as type-mismatch)', () => {
    // 15 numbers + 5 words = 75% → would be inferred categorical, but the reference says numeric.
    const km = [...seq(15), 'a', 'b', 'c', 'd', 'e'];
    const t = table(['price', 'km', 'fuel'], [seq(20, 100), km, Array(20).fill('diesel')]);
    const report = validateDataset(t, { target: 'price', features: ['km', 'fuel'], reference });
    expect(report.schema.columns.find((c) => c.name === 'km')!.type).toBe('numeric');
    const mismatch = byCheck(report.findings, 'type-mismatch');
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0].message).toContain('5 value(s)');
    expect(byCheck(report.findings, 'type-changed')).toEqual([]);
    expect(report.passed).toBe(false);
  });

  it('accepts digits in a column the reference says is categorical, keeping it categorical', () => {
    const t = table(['price', 'km', 'fuel'], [seq(20, 100), seq(20), seq(20)]);
    const report = validateDataset(t, { target: 'price', features: ['km', 'fuel'], reference });
    expect(report.schema.columns.find((c) => c.name === 'fuel')!.type).toBe('categorical');
    expect(report.findings).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('without a reference the same text column is simply categorical', () => {
    const km = Array.from({ length: 20 }, (_, i) => `${i}k`);
    const t = table(['price', 'km'], [seq(20, 100), km]);
    const report = validateDataset(t, { target: 'price', features: ['km'] });
    expect(report.findings).toEqual([]);
    expect(report.schema.columns.find((c) => c.name === 'km')!.type).toBe('categorical');
  });
});

describe('validateDataset: passed flag', () => {
  it('is true with only warnings and false with any error', () => {
    const km = seq(20);
    km[0] = '';
    km[1] = '';
    const warnOnly = validateDataset(table(['price', 'km'], [seq(20, 100), km]), { target: 'price', features: ['km'] });
    expect(warnOnly.findings.length).toBeGreaterThan(0);
    expect(errors(warnOnly.findings)).toEqual([]);
    expect(warnOnly.passed).toBe(true);

    const withError = validateDataset(table(['price', 'km'], [seq(20, 100), km]), { target: 'price', features: ['km', 'nope'] });
    expect(withError.passed).toBe(false);
  });
});
