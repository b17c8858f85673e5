// validateProfile judges a dataset from its profile. Every case here goes through the engine as the
// ingest and validate activities do: a small CSV is built into its typed form (buildColumnar), profiled
// (profileColumnar), checked against the model's schema where there is one (schemaViolations), then judged.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignedCounts, schemaViolations } from '../../src/data/checks';
import { buildColumnar } from '../../src/data/columnar';
import { withDuckDB } from '../../src/data/duckdb';
import { profileColumnar } from '../../src/data/profiler';
import type { DatasetProfile } from '../../src/domain/profile';
import type { Finding } from '../../src/domain/report';
import type { DatasetSchema, SchemaSource } from '../../src/domain/schema';
import { compareFeatures } from '../../src/domain/skew';
import { validateProfile, type ValidationOutcome, type ValidationPolicy } from '../../src/domain/validation';
import { DataPolicy } from '../../src/schemas/lifecycle';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-validation-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const DEFAULTS: ValidationPolicy = DataPolicy.parse({});

const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
/** A CSV of equal-length columns. */
const csv = (columns: Record<string, string[]>) => {
  const names = Object.keys(columns);
  const rows = columns[names[0]].map((_, r) => names.map((n) => cell(columns[n][r])).join(','));
  return `${[names.join(','), ...rows].join('\n')}\n`;
};
/** n distinct numbers as strings: "1", "2", ... */
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

interface Judge {
  target: string;
  features: string[];
  policy?: Partial<ValidationPolicy>;
  reference?: { schema: DatasetSchema; source: SchemaSource } | null;
}

/** Builds, profiles and (with a reference) checks the CSV, then validates it: what the two activities do. */
async function judge(text: string, request: Judge): Promise<ValidationOutcome & { profile: DatasetProfile }> {
  const file = path.join(dir, `in-${++counter}.csv`);
  const table = path.join(dir, `table-${counter}.parquet`);
  await fs.writeFile(file, text);
  const reference = request.reference ?? null;
  const keepAsText = reference?.schema.columns.filter((c) => c.type === 'categorical').map((c) => c.name) ?? [];
  return withDuckDB({}, async (db) => {
    const columnar = await buildColumnar(db, [file], table, { format: 'csv', encoding: 'utf-8', keepAsText });
    const profile = await profileColumnar(db, table, columnar);
    const byName = new Map(profile.columns.map((c) => [c.name, c]));
    const used = [request.target, ...request.features].filter((n) => byName.has(n));
    const schemaColumns = (reference?.schema.columns ?? []).filter((c) => used.includes(c.name) && c.name !== request.target);
    const checks = await schemaViolations(db, table, schemaColumns.map((schema) => ({ schema, storedAs: byName.get(schema.name)!.storedAs })));
    const outcome = validateProfile(profile, { target: request.target, features: request.features, policy: { ...DEFAULTS, ...request.policy }, reference, checks });
    return { ...outcome, profile };
  });
}

const errors = (findings: Finding[]) => findings.filter((f) => f.severity === 'error');
const warnings = (findings: Finding[]) => findings.filter((f) => f.severity === 'warning');
const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

/** A clean 20-row dataset: price (target), km (numeric), fuel (categorical). */
const clean = (): Record<'price' | 'km' | 'fuel', string[]> => ({ price: seq(20, 100), km: seq(20, 1), fuel: Array.from({ length: 20 }, (_, i) => (i % 2 ? 'diesel' : 'petrol')) });

describe('validateProfile: a clean dataset', () => {
  it('passes with no findings; the schema types the used columns; every row and feature is kept', async () => {
    const outcome = await judge(csv(clean()), { target: 'price', features: ['km', 'fuel'] });
    expect(outcome.findings).toEqual([]);
    expect(outcome.passed).toBe(true);
    expect(outcome.usableRows).toBe(20);
    expect(outcome.droppedRows).toBe(0);
    expect(outcome.features).toEqual(['km', 'fuel']);
    expect(outcome.droppedFeatures).toEqual([]);
    expect(outcome.schema.columns).toEqual([
      { name: 'price', type: 'numeric', nullable: false },
      { name: 'km', type: 'numeric', nullable: false },
      { name: 'fuel', type: 'categorical', nullable: false },
    ]);
  });

  it('the documented policy defaults', () => {
    expect(DEFAULTS).toMatchObject({ missingTarget: 'drop', maxMissingTargetShare: 0.5, badFeature: 'error', minRows: 10, maxMissingShare: 0.5, warnMissingShare: 0.05, numericShare: 0.95, maxDistinctCategories: 100 });
  });
});

describe('validateProfile: structure', () => {
  it('refuses too few rows with the actual and needed counts; exactly minRows passes; minRows is a policy', async () => {
    const nine = await judge(csv({ price: seq(9, 10), km: seq(9) }), { target: 'price', features: ['km'] });
    const rc = byCheck(nine.findings, 'row-count');
    expect(rc).toEqual([{ severity: 'error', check: 'row-count', column: undefined, message: 'the dataset has 9 usable data row(s); at least 10 are needed (data.minRows)' }]);
    expect(nine.passed).toBe(false);
    expect((await judge(csv({ price: seq(10, 10), km: seq(10) }), { target: 'price', features: ['km'] })).passed).toBe(true);
    const three = csv({ price: seq(3, 10), km: seq(3) });
    expect((await judge(three, { target: 'price', features: ['km'], policy: { minRows: 3 } })).passed).toBe(true);
    expect((await judge(three, { target: 'price', features: ['km'], policy: { minRows: 4 } })).passed).toBe(false);
  });

  it('names a missing target column and lists the columns there are', async () => {
    const outcome = await judge(csv(clean()), { target: 'cost', features: ['km'] });
    const missing = byCheck(outcome.findings, 'missing-column');
    expect(missing).toEqual([{ severity: 'error', check: 'missing-column', column: 'cost', message: 'target column "cost" is not in the file (columns: price, km, fuel)' }]);
    expect(outcome.passed).toBe(false);
    expect(outcome.schema.columns.map((c) => c.name)).toEqual(['km']);
  });

  it('names each missing feature column', async () => {
    const outcome = await judge(csv(clean()), { target: 'price', features: ['km', 'year', 'color'] });
    const missing = byCheck(outcome.findings, 'missing-column');
    expect(missing.map((f) => f.column)).toEqual(['year', 'color']);
    expect(missing[0].message).toBe('feature column "year" is not in the file (columns: price, km, fuel)');
    expect(outcome.features).toEqual(['km']);
  });

  it('a header-only file: 0 usable rows, and no "it holds text such as" message with nothing after it', async () => {
    const outcome = await judge('price,km\n', { target: 'price', features: ['km'] });
    expect(outcome.passed).toBe(false);
    expect(byCheck(outcome.findings, 'row-count').map((f) => f.message)).toEqual(['the dataset has 0 usable data row(s); at least 10 are needed (data.minRows)']);
    expect(byCheck(outcome.findings, 'target-type')).toEqual([]);
    expect(byCheck(outcome.findings, 'target-missing')).toEqual([]);
    expect(byCheck(outcome.findings, 'empty-column')).toEqual([]);
    for (const f of outcome.findings) expect(f.message).not.toMatch(/such as\s*$|such as \(|\(\s*\)/);
    expect(errors(outcome.findings)).toHaveLength(1);
  });
});

describe('validateProfile: the target', () => {
  it('drops rows without a target, warning with their count and rows', async () => {
    const columns = clean();
    columns.price[2] = '';
    columns.price[9] = 'NA';
    const outcome = await judge(csv(columns), { target: 'price', features: ['km'] });
    expect(outcome.findings).toEqual([
      { severity: 'warning', check: 'target-missing', column: 'price', message: 'target column "price": 2 row(s) have no value (rows 3, 10); they are dropped (data.missingTarget = "drop")' },
    ]);
    expect(outcome).toMatchObject({ passed: true, droppedRows: 2, usableRows: 18 });
    // The target is nullable in the schema: rows without it exist in the file.
    expect(outcome.schema.columns[0]).toEqual({ name: 'price', type: 'numeric', nullable: true });
  });

  it('lists five rows then "..." when more have no target', async () => {
    const columns = { price: seq(40, 100), km: seq(40) };
    for (const r of [1, 4, 6, 7, 20, 33, 39]) columns.price[r] = '';
    const outcome = await judge(csv(columns), { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'target-missing')[0].message).toContain('7 row(s) have no value (rows 2, 5, 7, 8, 21, ...)');
  });

  it('counts only usable rows against minRows', async () => {
    const columns = { price: seq(11, 100), km: seq(11) };
    columns.price[0] = columns.price[5] = '';
    const outcome = await judge(csv(columns), { target: 'price', features: ['km'] });
    expect(outcome.usableRows).toBe(9);
    expect(byCheck(outcome.findings, 'row-count')[0].message).toContain('9 usable data row(s)');
  });

  it('above maxMissingTargetShare dropping is refused', async () => {
    const columns = clean();
    for (let r = 0; r < 11; r++) columns.price[r] = '';
    const outcome = await judge(csv(columns), { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'target-missing')).toEqual([
      {
        severity: 'error',
        check: 'target-missing',
        column: 'price',
        message: 'target column "price": 11 row(s) have no value (rows 1, 2, 3, 4, 5, ...), 55.0% of the rows (limit 50.0%, data.maxMissingTargetShare)',
      },
    ]);
    expect(outcome.droppedRows).toBe(0);
    expect(outcome.passed).toBe(false);
    // At exactly the limit (10 of 20) the rows are dropped.
    const half = clean();
    for (let r = 0; r < 10; r++) half.price[r] = '';
    expect(await judge(csv(half), { target: 'price', features: ['km'], policy: { minRows: 2 } })).toMatchObject({ passed: true, droppedRows: 10 });
  });

  it('missingTarget "error" refuses any row without a target', async () => {
    const columns = clean();
    columns.price[4] = 'null';
    const outcome = await judge(csv(columns), { target: 'price', features: ['km'], policy: { missingTarget: 'error' } });
    expect(byCheck(outcome.findings, 'target-missing')).toEqual([
      { severity: 'error', check: 'target-missing', column: 'price', message: 'target column "price": 1 row(s) have no value (rows 5) (data.missingTarget = "error")' },
    ]);
    expect(outcome).toMatchObject({ passed: false, droppedRows: 0, usableRows: 20 });
  });

  it('a target with no values at all', async () => {
    const outcome = await judge(csv({ price: Array<string>(20).fill(''), km: seq(20) }), { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'target-missing').map((f) => [f.severity, f.message])).toEqual([['error', 'target column "price" has no values at all']]);
  });

  it('refuses a text target, quoting example values', async () => {
    const target = Array.from({ length: 20 }, (_, i) => ['cheap', 'mid', 'dear'][i % 3]);
    const outcome = await judge(csv({ price: target, km: seq(20) }), { target: 'price', features: ['km'] });
    // "cheap" 7 times, "mid" 7, "dear" 6: by count, then value.
    expect(byCheck(outcome.findings, 'target-type')).toEqual([
      { severity: 'error', check: 'target-type', column: 'price', message: 'target column "price" must be numeric for regression; it holds text such as "cheap", "mid", "dear"' },
    ]);
  });

  it('refuses words in a numeric target, with their rows', async () => {
    const target = seq(20, 100);
    target[3] = 'ask';
    const outcome = await judge(csv({ price: target, km: seq(20) }), { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'type-mismatch')[0]).toEqual({ severity: 'error', check: 'type-mismatch', column: 'price', message: 'target column "price": 1 value(s) are not numbers (row 4: "ask")' });
  });

  it('refuses a constant target; two distinct values are not constant', async () => {
    const constant = await judge(csv({ price: Array<string>(20).fill('5'), km: seq(20) }), { target: 'price', features: ['km'] });
    expect(byCheck(constant.findings, 'target-constant')).toEqual([
      { severity: 'error', check: 'target-constant', column: 'price', message: 'target column "price" is constant (5): there is nothing to learn' },
    ]);
    const two = Array<string>(20).fill('5');
    two[19] = '6';
    const outcome = await judge(csv({ price: two, km: seq(20) }), { target: 'price', features: ['km'] });
    expect(outcome.findings).toEqual([]);
  });

  it('refuses infinite and huge target values', async () => {
    const target = seq(20, 100);
    target[2] = '1e999';
    target[5] = '-1e308';
    const outcome = await judge(csv({ price: target, km: seq(20) }), { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'magnitude')).toEqual([
      { severity: 'error', check: 'magnitude', column: 'price', message: 'target column "price": 2 value(s) are infinite or beyond ±1e+100 and would overflow training' },
    ]);
  });
});

describe('validateProfile: features', () => {
  it('reports text in a numeric feature with 1-based rows and quoted values', async () => {
    // 19 numbers + 1 word: 95% numbers, so the column is numeric and the word an error.
    const km = seq(20);
    km[6] = '12k';
    const outcome = await judge(csv({ price: seq(20, 100), km }), { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'type-mismatch')).toEqual([
      { severity: 'error', check: 'type-mismatch', column: 'km', message: 'feature "km": 1 value(s) are not numbers in a numeric column (row 7: "12k")' },
    ]);
    expect(outcome.schema.columns[1]).toEqual({ name: 'km', type: 'numeric', nullable: false });
    // The statistics leave the word out: 1..20 without 7.
    const km2 = outcome.profile.columns.find((c) => c.name === 'km')!.numeric!;
    expect(km2).toMatchObject({ count: 19, min: 1, max: 20 });
    expect(km2.mean).toBeCloseTo(203 / 19, 12);
  });

  it('numbers the first data row as row 1 and quotes values escaped and cut short', async () => {
    const km = seq(40);
    km[0] = 'oops';
    km[1] = `say "hi" ${'x'.repeat(60)}`;
    const outcome = await judge(csv({ price: seq(40, 100), km }), { target: 'price', features: ['km'] });
    const message = byCheck(outcome.findings, 'type-mismatch')[0].message;
    expect(message).toContain('row 1: "oops", row 2: "say \\"hi\\" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"');
  });

  it('shows at most five examples then "...", with the full count', async () => {
    // 120 numbers + 6 words: 95.2% numbers.
    const km = [...seq(120), 'a', 'b', 'c', 'd', 'e', 'f'];
    const outcome = await judge(csv({ price: seq(126, 1000), km }), { target: 'price', features: ['km'] });
    const message = byCheck(outcome.findings, 'type-mismatch')[0].message;
    expect(message).toBe('feature "km": 6 value(s) are not numbers in a numeric column (row 121: "a", row 122: "b", row 123: "c", row 124: "d", row 125: "e", ...)');
  });

  it('a feature 61.6% empty fails by default, naming the rate and the limit', async () => {
    // 77 of 125 rows empty = 61.6%.
    const km = seq(125).map((v, i) => (i % 125 < 77 ? '' : v));
    const text = csv({ price: seq(125, 100), km, fuel: Array<string>(125).fill('diesel') });
    const outcome = await judge(text, { target: 'price', features: ['km', 'fuel'] });
    expect(byCheck(outcome.findings, 'missing-rate')).toEqual([
      { severity: 'error', check: 'missing-rate', column: 'km', message: 'feature "km": 61.6% of values are missing (limit 50.0%, data.maxMissingShare)' },
    ]);
    expect(outcome.passed).toBe(false);

    const lenient = await judge(text, { target: 'price', features: ['km', 'fuel'], policy: { maxMissingShare: 0.7 } });
    expect(lenient.findings).toEqual([{ severity: 'warning', check: 'missing-rate', column: 'km', message: 'feature "km": 61.6% of values are missing; they will be imputed' }]);
    expect(lenient.passed).toBe(true);
    expect(lenient.features).toEqual(['km', 'fuel']);

    const dropping = await judge(text, { target: 'price', features: ['km', 'fuel'], policy: { badFeature: 'drop' } });
    expect(dropping.passed).toBe(true);
    expect(dropping.features).toEqual(['fuel']);
    expect(dropping.droppedFeatures).toEqual([{ column: 'km', reason: '61.6% of values are missing (limit 50.0%, data.maxMissingShare)' }]);
    expect(dropping.findings).toEqual([
      { severity: 'warning', check: 'missing-rate', column: 'km', message: 'feature "km" is dropped (data.badFeature = "drop"): 61.6% of values are missing (limit 50.0%, data.maxMissingShare)' },
    ]);
    expect(dropping.schema.columns.map((c) => c.name)).toEqual(['price', 'fuel']);
  });

  it('missing-rate thresholds are strict: 5% nothing, 10% a warning, 50% a warning, 55% an error', async () => {
    const run = async (missing: number) => {
      const km = seq(20).map((v, i) => (i < missing ? 'NA' : v));
      return judge(csv({ price: seq(20, 100), km }), { target: 'price', features: ['km'] });
    };
    expect((await run(1)).findings).toEqual([]);
    expect((await run(2)).findings.map((f) => [f.severity, f.check, f.message])).toEqual([['warning', 'missing-rate', 'feature "km": 10.0% of values are missing; they will be imputed']]);
    expect((await run(10)).findings.map((f) => [f.severity, f.check])).toEqual([['warning', 'missing-rate']]);
    expect((await run(11)).findings.map((f) => [f.severity, f.check])).toEqual([['error', 'missing-rate']]);
  });

  it('a feature with no values at all is an error; dropped by policy, and if nothing is left, that is an error', async () => {
    const text = csv({ price: seq(20, 100), km: Array<string>(20).fill('') });
    const outcome = await judge(text, { target: 'price', features: ['km'] });
    expect(byCheck(outcome.findings, 'empty-column').map((f) => [f.severity, f.message])).toEqual([['error', 'feature "km": it has no values at all']]);
    const dropped = await judge(text, { target: 'price', features: ['km'], policy: { badFeature: 'drop' } });
    expect(dropped.features).toEqual([]);
    expect(byCheck(dropped.findings, 'no-features').map((f) => [f.severity, f.message])).toEqual([['error', 'every feature was dropped: nothing is left to train on']]);
    expect(dropped.passed).toBe(false);
  });

  it('±1e308 and 1e999 are magnitude errors; dropped by policy', async () => {
    const km = seq(40);
    km[3] = '1e308';
    km[8] = '-1e308';
    km[15] = '1e999';
    const text = csv({ price: seq(40, 100), km, year: seq(40, 1990) });
    const outcome = await judge(text, { target: 'price', features: ['km', 'year'] });
    expect(byCheck(outcome.findings, 'magnitude')).toEqual([
      { severity: 'error', check: 'magnitude', column: 'km', message: 'feature "km": 3 value(s) are infinite or beyond ±1e+100 and would overflow training' },
    ]);
    expect(byCheck(outcome.findings, 'type-mismatch')).toEqual([]);
    expect(outcome.passed).toBe(false);
    // The statistics of the other 37 values are intact.
    expect(outcome.profile.columns[1].numeric).toMatchObject({ count: 37, min: 1, max: 40, huge: 3 });
    const dropped = await judge(text, { target: 'price', features: ['km', 'year'], policy: { badFeature: 'drop' } });
    expect(dropped).toMatchObject({ passed: true, features: ['year'], droppedFeatures: [{ column: 'km', reason: '3 value(s) are infinite or beyond ±1e+100 and would overflow training' }] });
  });

  it('warns when features outnumber rows (45 features, 40 rows, through the engine)', async () => {
    const columns: Record<string, string[]> = { price: seq(40, 100) };
    for (let j = 0; j < 45; j++) columns[`f${j}`] = seq(40).map((v, r) => String((r * 31 + j * 7) % 97));
    const features = Object.keys(columns).slice(1);
    const outcome = await judge(csv(columns), { target: 'price', features });
    expect(outcome.findings).toEqual([
      {
        severity: 'warning',
        check: 'wide-data',
        column: undefined,
        message: '45 features for 40 rows: features outnumber rows, so the fit leans on regularisation (trainer.params.alpha)',
      },
    ]);
    expect(outcome.passed).toBe(true);
  });

  it('warns when 2,000 features are given for 40 rows', async () => {
    // The profile of 2,000 feature columns is the engine's profile of one, repeated under 2,000 names: the
    // engine itself cannot yet profile 2,000 columns at the default memory limit (see columnar.test.ts).
    const outcome = await judge(csv({ price: seq(40, 100), f: seq(40).map((_, r) => String((r * 31) % 97)) }), { target: 'price', features: ['f'] });
    const [price, f] = outcome.profile.columns;
    const wide: DatasetProfile = { ...outcome.profile, columns: [price, ...Array.from({ length: 2000 }, (_, j) => ({ ...f, name: `f${j}` }))] };
    const features = wide.columns.slice(1).map((c) => c.name);
    const judged = validateProfile(wide, { target: 'price', features, policy: DEFAULTS, reference: null });
    expect(judged.findings.map((x) => [x.severity, x.check, x.message])).toEqual([
      ['warning', 'wide-data', '2000 features for 40 rows: features outnumber rows, so the fit leans on regularisation (trainer.params.alpha)'],
    ]);
    expect(judged.features).toHaveLength(2000);
    expect(judged.passed).toBe(true);
  });
});

describe('validateProfile: high cardinality', () => {
  // distinct is a HyperLogLog estimate (about 13% standard error): the counts below keep clear of the limits.
  it('warns on a categorical feature with many distinct values making up most of its rows', async () => {
    const outcome = await judge(csv({ price: seq(300, 1000), vin: Array.from({ length: 300 }, (_, i) => `vin-${i}`) }), { target: 'price', features: ['vin'] });
    const hc = byCheck(outcome.findings, 'high-cardinality');
    expect(hc).toHaveLength(1);
    expect(hc[0]).toMatchObject({ severity: 'warning', column: 'vin' });
    expect(hc[0].message).toMatch(/^feature "vin" has about (\d+) distinct values in 300 rows: free text or an identifier\? \(data\.maxDistinctCategories\)$/);
    const estimate = Number(/about (\d+)/.exec(hc[0].message)![1]);
    expect(Math.abs(estimate - 300)).toBeLessThanOrEqual(0.39 * 300);
    expect(outcome.passed).toBe(true);
  });

  it('does not warn with few distinct values, with distinct values at most half the rows, or on numbers', async () => {
    const few = await judge(csv({ price: seq(300, 1000), vin: Array.from({ length: 300 }, (_, i) => `vin-${i % 40}`) }), { target: 'price', features: ['vin'] });
    expect(few.findings).toEqual([]);
    const repeated = await judge(csv({ price: seq(1000, 1000), vin: Array.from({ length: 1000 }, (_, i) => `vin-${i % 150}`) }), { target: 'price', features: ['vin'] });
    expect(repeated.findings).toEqual([]);
    const numbers = await judge(csv({ price: seq(300, 1000), km: seq(300) }), { target: 'price', features: ['km'] });
    expect(numbers.findings).toEqual([]);
  });

  it('the limit is a policy', async () => {
    const outcome = await judge(csv({ price: seq(60, 1000), vin: Array.from({ length: 60 }, (_, i) => `vin-${i}`) }), { target: 'price', features: ['vin'], policy: { maxDistinctCategories: 20 } });
    expect(byCheck(outcome.findings, 'high-cardinality')).toHaveLength(1);
  });
});

describe("validateProfile: the model's schema", () => {
  const schema: DatasetSchema = {
    columns: [
      { name: 'price', type: 'numeric', nullable: false },
      { name: 'km', type: 'numeric', nullable: false, min: 0, max: 30 },
      { name: 'fuel', type: 'categorical', nullable: false, values: ['diesel', 'petrol'] },
    ],
  };
  const withNews = () => {
    const columns = clean();
    columns.km[4] = '45';
    columns.km[9] = '-2';
    columns.fuel[3] = 'electric';
    columns.fuel[7] = 'hydrogen';
    columns.fuel[8] = 'electric';
    return csv(columns);
  };

  // The unseen examples are DISTINCT values, in no particular order (reported).
  const UNSEEN = /^feature "fuel": 3 value\(s\) in categories the schema does not know \(("electric", "hydrogen"|"hydrogen", "electric")\)/;

  it('a pinned schema (a file): out-of-range values and unseen categories are errors', async () => {
    const outcome = await judge(withNews(), { target: 'price', features: ['km', 'fuel'], reference: { schema, source: 'file' } });
    expect(outcome.findings).toEqual([
      { severity: 'error', check: 'out-of-range', column: 'km', message: `feature "km": 2 value(s) outside the schema's range [0, 30] (such as 45, -2)` },
      { severity: 'error', check: 'unseen-category', column: 'fuel', message: expect.stringMatching(UNSEEN) },
    ]);
    expect(outcome.findings[1].message).toMatch(/\)$/);
    expect(outcome.passed).toBe(false);
  });

  it('an inferred schema: the same are warnings (encoded as unknown)', async () => {
    const outcome = await judge(withNews(), { target: 'price', features: ['km', 'fuel'], reference: { schema, source: 'inferred' } });
    expect(outcome.findings).toEqual([
      {
        severity: 'warning',
        check: 'out-of-range',
        column: 'km',
        message: `feature "km": 2 value(s) outside the schema's range [0, 30] (such as 45, -2); the range was inferred from the model's first dataset`,
      },
      { severity: 'warning', check: 'unseen-category', column: 'fuel', message: expect.stringMatching(UNSEEN) },
    ]);
    expect(outcome.findings[1].message).toMatch(/; they are encoded as unknown$/);
    expect(outcome.passed).toBe(true);
  });

  it('a column numeric in the schema that now holds only text is refused, with examples', async () => {
    const columns = { ...clean(), km: Array.from({ length: 20 }, (_, i) => `${i}k`) };
    const outcome = await judge(csv(columns), { target: 'price', features: ['km', 'fuel'], reference: { schema, source: 'inferred' } });
    expect(byCheck(outcome.findings, 'type-changed')).toEqual([
      {
        severity: 'error',
        check: 'type-changed',
        column: 'km',
        message: `column "km" is numeric in the model's schema but holds no numbers now (row 1: "0k", row 2: "1k", row 3: "2k", row 4: "3k", row 5: "4k", ...)`,
      },
    ]);
    expect(byCheck(outcome.findings, 'type-mismatch')).toEqual([]);
    expect(outcome.schema.columns.find((c) => c.name === 'km')!.type).toBe('numeric');
  });

  it('keeps the schema numeric type when a few values are text: a type mismatch', async () => {
    // 15 numbers + 5 words = 75%: inferred, it would be categorical.
    const columns = { ...clean(), km: [...seq(15), 'a', 'b', 'c', 'd', 'e'] };
    const outcome = await judge(csv(columns), { target: 'price', features: ['km', 'fuel'], reference: { schema, source: 'file' } });
    expect(outcome.schema.columns.find((c) => c.name === 'km')!.type).toBe('numeric');
    expect(byCheck(outcome.findings, 'type-mismatch').map((f) => f.message)).toEqual([
      'feature "km": 5 value(s) are not numbers in a numeric column (row 16: "a", row 17: "b", row 18: "c", row 19: "d", row 20: "e")',
    ]);
    expect(byCheck(outcome.findings, 'type-changed')).toEqual([]);
  });

  it('digits in a column the schema calls categorical stay categories, leading zeros included', async () => {
    const zipSchema: DatasetSchema = { columns: [...schema.columns.slice(0, 2), { name: 'zip', type: 'categorical', nullable: false, values: ['02134', '10001'] }] };
    const columns = { price: seq(20, 100), km: seq(20), zip: Array.from({ length: 20 }, (_, i) => (i % 2 ? '02134' : '10001')) };
    const outcome = await judge(csv(columns), { target: 'price', features: ['km', 'zip'], reference: { schema: zipSchema, source: 'file' } });
    expect(outcome.findings).toEqual([]);
    expect(outcome.schema.columns.find((c) => c.name === 'zip')!.type).toBe('categorical');
    // Without the schema, the same column is numbers.
    const inferred = await judge(csv(columns), { target: 'price', features: ['km', 'zip'] });
    expect(inferred.schema.columns.find((c) => c.name === 'zip')!.type).toBe('numeric');
  });
});

describe('validateProfile: skew against the production model', () => {
  it('a shifted feature is a warning naming PSI and Jensen–Shannon; the same data is not skewed', async () => {
    const rows = 400;
    const reference = csv({ price: seq(rows, 100), km: Array.from({ length: rows }, (_, i) => String(i % 100)) });
    const shifted = csv({ price: seq(rows, 100), km: Array.from({ length: rows }, (_, i) => String(50 + (i % 100))) });
    const profileOf = async (text: string) => {
      const file = path.join(dir, `skew-${++counter}.csv`);
      const table = path.join(dir, `skew-${counter}.parquet`);
      await fs.writeFile(file, text);
      return withDuckDB({}, async (db) => ({ table, profile: await profileColumnar(db, table, await buildColumnar(db, [file], table, { format: 'csv', encoding: 'utf-8', keepAsText: [] })) }));
    };
    const ref = await profileOf(reference);
    const judgeAgainst = async (text: string) => {
      const cur = await profileOf(text);
      const skew = await withDuckDB({}, (db) => compareFeatures(ref.profile, cur.profile, ['km'], DEFAULTS, (columns) => alignedCounts(db, cur.table, columns)));
      return validateProfile(cur.profile, { target: 'price', features: ['km'], policy: DEFAULTS, reference: null, skew });
    };
    const same = await judgeAgainst(reference);
    expect(same.findings).toEqual([]);
    const moved = await judgeAgainst(shifted);
    expect(moved.findings).toHaveLength(1);
    expect(moved.findings[0]).toMatchObject({ severity: 'warning', check: 'skew', column: 'km' });
    expect(moved.findings[0].message).toMatch(/^feature "km" is skewed against the production model's dataset: PSI \d+\.\d{3}, Jensen–Shannon 0\.\d{3}$/);
    expect(moved.passed).toBe(true);
  });
});

describe('validateProfile: passed', () => {
  it('is true with only warnings and false with any error', async () => {
    const columns = clean();
    columns.km[0] = columns.km[1] = '';
    const warnOnly = await judge(csv(columns), { target: 'price', features: ['km'] });
    expect(warnings(warnOnly.findings).length).toBeGreaterThan(0);
    expect(errors(warnOnly.findings)).toEqual([]);
    expect(warnOnly.passed).toBe(true);
    expect((await judge(csv(columns), { target: 'price', features: ['km', 'nope'] })).passed).toBe(false);
  });
});
