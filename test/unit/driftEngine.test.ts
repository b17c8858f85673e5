// compareDatasets on real typed Parquet files: CSV written here, built by buildColumnar and profiled by
// profileColumnar as ingestion does. Against Evidently 0.7 on its fixture datasets; a mean shift and a new
// category are found; samples of one distribution are not flagged more often than the tests' level.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildColumnar } from '../../src/data/columnar';
import { compareDatasets, DriftInputError, type DriftFeature, type DriftSide } from '../../src/data/driftEngine';
import { withDuckDB } from '../../src/data/duckdb';
import { profileColumnar } from '../../src/data/profiler';
import { chiSquareSf, jensenShannonDistance, normedWassersteinDistance } from '../../src/domain/drift';
import { binIndex } from '../../src/domain/profile';
import { mulberry32 } from '../../src/domain/split';
import { DriftPolicy } from '../../src/schemas/monitoring';
import { evidentlyFixture, type FixtureValue } from '../support/evidentlyFixture';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-drift-engine-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

type Value = FixtureValue;

/** Columns of values as a CSV file, then its typed form and profile, as the ingest activity makes them. */
async function side(columns: Record<string, Value[]>, categorical: string[]): Promise<DriftSide> {
  const names = Object.keys(columns);
  const rows = columns[names[0]].length;
  const lines = [names.join(',')];
  for (let r = 0; r < rows; r++) lines.push(names.map((n) => (columns[n][r] === null ? '' : String(columns[n][r]))).join(','));
  const csv = path.join(dir, `side-${++counter}.csv`);
  const table = path.join(dir, `side-${counter}.parquet`);
  await fs.writeFile(csv, `${lines.join('\n')}\n`);
  const profile = await withDuckDB({}, async (db) => profileColumnar(db, table, await buildColumnar(db, [csv], table, { format: 'csv', encoding: 'utf-8', keepAsText: categorical })));
  return { table, profile };
}

const fixture = evidentlyFixture;
const policy = DriftPolicy.parse({ minCurrentRows: 1, chiSquare: 'evidently' }) // Evidently's own test, to compare verdicts with it;

describe('compareDatasets against Evidently 0.7 (test/fixtures/evidently-drift.json)', () => {
  for (const d of fixture.datasets) {
    it(d.name, async () => {
      const features: DriftFeature[] = [...d.numerical.map((name) => ({ name, kind: 'numeric' as const })), ...d.categorical.map((name) => ({ name, kind: 'categorical' as const }))];
      const result = await compareDatasets(await side(d.reference, d.categorical), await side(d.current, d.categorical), features, policy);
      for (const f of result.features) {
        const theirs = d.evidently.columns[f.feature];
        expect(f.test, f.feature).toBe(theirs.test);
        // Binned Wasserstein within its stated error bound; every other score as SciPy computes it.
        const tolerance = f.test === 'wasserstein' ? f.approximationError : 1e-9 * Math.max(1, theirs.score) + 1e-12;
        expect(Math.abs(f.statistic - theirs.score), `${f.feature}: ${f.statistic} vs ${theirs.score}`).toBeLessThanOrEqual(tolerance);
        expect(f.drifted, f.feature).toBe(theirs.drifted);
      }
      expect(result.driftedFeatures.sort()).toEqual(d.evidently.drifted);
      expect(result.datasetDrift).toBe(d.evidently.datasetDrift);
    });
  }
});

/** Seeded data of one distribution (or shifted: amount's mean +0.5 sd, and a new make, Tesla, in 15% of rows). */
function generate(rows: number, seed: number, shifted = false): Record<string, Value[]> {
  const next = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const pick = <T>(levels: T[], weights: number[]) => {
    let u = next();
    for (const [i, w] of weights.entries()) if ((u -= w) < 0) return levels[i];
    return levels[levels.length - 1];
  };
  const columns: Record<string, Value[]> = { amount: [], mileage: [], doors: [], flag: [], make: [], gearbox: [] };
  for (let r = 0; r < rows; r++) {
    columns.amount.push(next() < 0.05 ? null : Math.round((50 + (shifted ? 5 : 0) + 10 * normal()) * 100) / 100);
    columns.mileage.push(Math.round(-Math.log(1 - next()) * 40_000));
    columns.doors.push(pick([2, 3, 4, 5], [0.1, 0.2, 0.5, 0.2]));
    columns.flag.push(pick([0, 1], [0.7, 0.3]));
    columns.make.push(shifted && next() < 0.15 ? 'Tesla' : next() < 0.03 ? null : pick(['VW', 'Ford', 'BMW', 'Kia'], [0.4, 0.3, 0.2, 0.1]));
    columns.gearbox.push(pick(['manual', 'automatic'], [0.6, 0.4]));
  }
  return columns;
}
const FEATURES: DriftFeature[] = [
  { name: 'amount', kind: 'numeric' },
  { name: 'mileage', kind: 'numeric' },
  { name: 'doors', kind: 'numeric' },
  { name: 'flag', kind: 'numeric' },
  { name: 'make', kind: 'categorical' },
  { name: 'gearbox', kind: 'categorical' },
];
const CATEGORICAL = ['make', 'gearbox'];

describe('compareDatasets on shifted data', () => {
  for (const [label, rows] of [
    ['small reference (exact tests)', 600],
    ['large reference (distances)', 20_000],
  ] as const) {
    it(`${label}: finds the mean shift and the new category, and only them`, async () => {
      const reference = await side(generate(rows, 11), CATEGORICAL);
      const current = await side(generate(rows, 12, true), CATEGORICAL);
      const result = await compareDatasets(reference, current, FEATURES, DriftPolicy.parse({}));
      expect(result.driftedFeatures).toEqual(['amount', 'make']);
      expect(result.datasetDrift).toBe(false);
      const make = result.features.find((f) => f.feature === 'make')!;
      expect(make.quality.unseenCategories).toEqual(['Tesla']);
      expect(make.quality.unseenCategoryShare).toBeGreaterThan(0.12);
      expect(make.histogram.bins).toContain('Tesla');
      expect(result.findings.join('\n')).toMatch(/make: .* categories the reference never had \("Tesla"\)/);
      const amount = result.features.find((f) => f.feature === 'amount')!;
      expect(amount.quality.missingShare.reference).toBeCloseTo(0.05, 1);
      expect(amount.histogram.reference.reduce((s, x) => s + x, 0)).toBe(reference.profile.columns[0].numeric!.count);
      expect(amount.histogram.current.reduce((s, x) => s + x, 0)).toBe(current.profile.columns[0].numeric!.count);
      expect(amount.psi).toBeGreaterThan(0.1);
    });
  }

  it('the binned Wasserstein distance of a large sample is within its bound of the exact one', async () => {
    const [r, c] = [generate(30_000, 21), generate(30_000, 22, true)];
    const result = await compareDatasets(await side(r, CATEGORICAL), await side(c, CATEGORICAL), FEATURES, DriftPolicy.parse({}));
    for (const name of ['amount', 'mileage']) {
      const f = result.features.find((x) => x.feature === name)!;
      const exact = normedWassersteinDistance(r[name].filter((v) => v !== null) as number[], c[name].filter((v) => v !== null) as number[]);
      expect(f.test).toBe('wasserstein');
      expect(Math.abs(f.statistic - exact)).toBeLessThanOrEqual(f.approximationError);
      // 2^16 bins: the bound is a few 10^-4 here (mileage has a long tail), the error far smaller.
      expect(f.approximationError).toBeLessThan(2e-3);
      expect(Math.abs(f.statistic - exact)).toBeLessThan(1e-5);
    }
  });

  it('counts current values outside the reference range, and refuses a feature without values', async () => {
    const reference = generate(2000, 31);
    const current = generate(2000, 32);
    current.mileage = current.mileage.map((m, i) => (i % 10 === 0 ? 10_000_000 : m));
    const result = await compareDatasets(await side(reference, CATEGORICAL), await side(current, CATEGORICAL), FEATURES, DriftPolicy.parse({}));
    const mileage = result.features.find((f) => f.feature === 'mileage')!;
    expect(mileage.quality.outOfDomainShare).toBeCloseTo(0.1, 3);
    // The current values on the reference histogram's bins, as the profiler bins them (outside values in the outer bins).
    const edges = mileage.histogram.bins as number[];
    const expected = new Array<number>(edges.length - 1).fill(0);
    for (const m of current.mileage) expected[binIndex(edges, m as number)]++;
    expect(mileage.histogram.current).toEqual(expected);
    expect(result.findings.join('\n')).toMatch(/mileage: 10\.0% of current values lie outside the reference's range/);
    const empty = { ...current, amount: current.amount.map(() => null) };
    await expect(compareDatasets(await side(reference, CATEGORICAL), await side(empty, CATEGORICAL), FEATURES, DriftPolicy.parse({}))).rejects.toThrow(DriftInputError);
  });
});

describe('compareDatasets at the edges of the grid', () => {
  it('a constant reference and values far beyond the reference range: Wasserstein within its bound', async () => {
    const next = mulberry32(9);
    const reference = { constant: Array.from({ length: 2000 }, () => 7), far: Array.from({ length: 2000 }, () => Math.round(next() * 10_000) / 100) };
    const current = {
      constant: Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? 7 : 7 + Math.round(next() * 1000) / 1000)),
      far: Array.from({ length: 1500 }, (_, i) => (i % 100 === 0 ? 1e12 : Math.round(next() * 10_000) / 100)),
    };
    const features: DriftFeature[] = [
      { name: 'constant', kind: 'numeric' },
      { name: 'far', kind: 'numeric' },
    ];
    const result = await compareDatasets(await side(reference, []), await side(current, []), features, DriftPolicy.parse({}));
    for (const f of result.features) {
      const exact = normedWassersteinDistance(reference[f.feature as 'far'], current[f.feature as 'far']);
      expect(f.test).toBe('wasserstein');
      expect(f.drifted).toBe(true);
      expect(Math.abs(f.statistic - exact), f.feature).toBeLessThanOrEqual(f.approximationError);
      expect(Math.abs(f.statistic - exact) / exact, f.feature).toBeLessThan(1e-3);
    }
    expect(result.features[1].quality.outOfDomainShare).toBeCloseTo(0.01, 10);
  });
});

describe('compareDatasets on categories', () => {
  it('counts a feature with more categories than a profile keeps from the data, and agrees with the counts from the profiles otherwise', async () => {
    const next = mulberry32(5);
    const model = (shift: number) => Array.from({ length: 4000 }, () => `m${Math.floor(80 * next() ** (1 + shift))}`);
    const [reference, current] = [{ ...generate(4000, 41), model: model(0) }, { ...generate(4000, 42), model: model(0.5) }];
    const [r, c] = [await side(reference, [...CATEGORICAL, 'model']), await side(current, [...CATEGORICAL, 'model'])];
    expect(r.profile.columns.find((x) => x.name === 'model')!.categorical!.otherCount).toBeGreaterThan(0);
    const result = await compareDatasets(r, c, [...FEATURES, { name: 'model', kind: 'categorical' }], DriftPolicy.parse({}));
    for (const name of ['model', 'make', 'gearbox']) {
      const values = (xs: Value[]) => xs.filter((v) => v !== null).map(String);
      const [a, b] = [values(reference[name as keyof typeof reference] as Value[]), values(current[name as keyof typeof current] as Value[])];
      const keys = [...new Set([...a, ...b])];
      const count = (xs: string[], k: string) => xs.filter((x) => x === k).length;
      const expected = jensenShannonDistance(keys.map((k) => count(a, k)), keys.map((k) => count(b, k)));
      expect(result.features.find((f) => f.feature === name)!.statistic, name).toBeCloseTo(expected, 12);
    }
    expect(result.driftedFeatures).toContain('model');
  });
});

describe('samples of one distribution are not flagged more often than the level', () => {
  const SEEDS = 30;
  it(`small references (p-value tests at α = 0.05), ${SEEDS} seeds × ${FEATURES.length} features, with either chi-square`, async () => {
    const flagged = { evidently: new Map<string, number>(), 'two-sample': new Map<string, number>() };
    let datasetDrift = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const [reference, current] = [await side(generate(400, 1000 + seed), CATEGORICAL), await side(generate(300, 2000 + seed), CATEGORICAL)];
      for (const chiSquare of ['evidently', 'two-sample'] as const) {
        const result = await compareDatasets(reference, current, FEATURES, DriftPolicy.parse({ chiSquare }));
        expect(result.features.map((f) => f.test)).toEqual(['ks', 'ks', 'chi-square', 'z', 'chi-square', 'z']);
        for (const f of result.driftedFeatures) flagged[chiSquare].set(f, (flagged[chiSquare].get(f) ?? 0) + 1);
        datasetDrift += result.datasetDrift ? 1 : 0;
      }
    }
    const rate = (counts: Map<string, number>, features: string[]) => features.reduce((s, f) => s + (counts.get(f) ?? 0), 0) / (features.length * SEEDS);
    const [twoSample, exactTests, evidentlyChiSquare] = [rate(flagged['two-sample'], FEATURES.map((f) => f.name)), rate(flagged.evidently, ['amount', 'mileage', 'flag', 'gearbox']), rate(flagged.evidently, ['doors', 'make'])];
    // Evidently's chi-square takes the reference's shares as exact: under the null its statistic is about
    // (1 + current/reference) times a chi-square variable, so it exceeds the critical value that often.
    const critical = (dof: number) => bisect((x) => chiSquareSf(x, dof) - 0.05, 0, 100);
    const predicted = (chiSquareSf(critical(3) / (1 + 300 / 400), 3) + chiSquareSf(critical(3) / (1 + 291 / 388), 3)) / 2;
    console.log(`false positives at α = 0.05 over ${SEEDS} seeds: two-sample tests ${twoSample.toFixed(3)}; KS and z ${exactTests.toFixed(3)}; Evidently's chi-square ${evidentlyChiSquare.toFixed(3)} (predicted ${predicted.toFixed(3)}); dataset drift ${datasetDrift}/${2 * SEEDS}`);
    // 180 tests at 5%: 9 expected (sd 2.9); 120: 6 (sd 2.4); 60 at 21%: 12.6 (sd 3.2).
    expect(twoSample).toBeGreaterThanOrEqual(0.01);
    expect(twoSample).toBeLessThanOrEqual(0.1);
    expect(exactTests).toBeLessThanOrEqual(0.1);
    expect(Math.abs(evidentlyChiSquare - predicted)).toBeLessThan(0.11);
    expect(datasetDrift).toBe(0);
  }, 240_000);

  it(`large references (distance thresholds), ${SEEDS / 3} seeds: nothing flagged`, async () => {
    for (let seed = 0; seed < SEEDS / 3; seed++) {
      const result = await compareDatasets(await side(generate(5000, 3000 + seed), CATEGORICAL), await side(generate(3000, 4000 + seed), CATEGORICAL), FEATURES, DriftPolicy.parse({}));
      expect(result.features.every((f) => ['wasserstein', 'jensen-shannon'].includes(f.test))).toBe(true);
      expect(result.driftedFeatures, `seed ${seed}`).toEqual([]);
      // Far from the thresholds, not just under them.
      expect(Math.max(...result.features.map((f) => f.statistic))).toBeLessThan(0.06);
    }
  }, 240_000);
});

/** The root of an increasing-or-decreasing f on [lo, hi]. */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (Math.sign(f(mid)) === Math.sign(f(lo))) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
