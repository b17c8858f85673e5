import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildColumnar } from '../../src/data/columnar';
import { compareDatasets, type DriftSide } from '../../src/data/driftEngine';
import { withDuckDB } from '../../src/data/duckdb';
import { profileColumnar } from '../../src/data/profiler';
import { usedCarsCsv } from '../../src/demo/usedCars';
import { DriftPolicy } from '../../src/schemas/monitoring';

/**
 * The monitor's false-positive rate, measured on the statistics engine over many seeds: reference and
 * current drawn from the same distribution (the used-car generator with different seeds), each typed and
 * profiled by the ingest's own code, compared with the product's default policy (Evidently's, with the
 * two-sample chi-square for small references). Its power on the shift
 * the workflow test uses is measured the same way, so the test fails if the engine flags everything too.
 */
const FEATURES = [
  { name: 'make', kind: 'categorical' },
  { name: 'model', kind: 'categorical' },
  { name: 'year', kind: 'numeric' },
  { name: 'mileage_km', kind: 'numeric' },
  { name: 'fuel', kind: 'categorical' },
  { name: 'region', kind: 'categorical' },
] as const;
const SEEDS = 40;
const policy = DriftPolicy.parse({});
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'drift-fp-'));
});
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

/** A CSV as the lifecycle ingests it: typed Parquet form and profile. */
async function side(name: string, csv: string): Promise<DriftSide> {
  const raw = path.join(dir, `${name}.csv`);
  const table = path.join(dir, `${name}.parquet`);
  await fs.writeFile(raw, csv);
  return withDuckDB({}, async (db) => {
    const columnar = await buildColumnar(db, [raw], table, { format: 'csv', encoding: 'utf-8', keepAsText: [] });
    return { table, profile: await profileColumnar(db, table, columnar) };
  });
}

/** Mileage 1.6× + 40,000 km, six years older, two thirds of the rows in a new region: the workflow test's shift. */
function shiftCsv(csv: string, seed: number): string {
  const [header, ...lines] = csv.trimEnd().split('\n');
  const out = lines.map((line, i) => {
    const cells = line.split(',');
    const n = cells.length; // make, model, year, mileage_km, fuel, region, price
    cells[n - 5] = String(Number(cells[n - 5]) - 6);
    if (cells[n - 4] !== '') cells[n - 4] = String(Number(cells[n - 4]) * 1.6 + 40_000);
    if ((i + seed) % 3 !== 0) cells[n - 2] = 'orbit';
    return cells.join(',');
  });
  return [header, ...out].join('\n') + '\n';
}

async function rates(referenceRows: number, currentRows: number, shifted: boolean, seeds: number) {
  let featureFlags = 0;
  let datasetFlags = 0;
  const byTest: Record<string, { tests: number; flagged: number }> = {};
  for (let seed = 1; seed <= seeds; seed++) {
    const reference = await side(`r${referenceRows}-${seed}`, usedCarsCsv(referenceRows, seed));
    const csv = usedCarsCsv(currentRows, 10_000 + seed);
    const current = await side(`c${currentRows}-${seed}-${shifted}`, shifted ? shiftCsv(csv, seed) : csv);
    const result = await compareDatasets(reference, current, [...FEATURES], policy);
    featureFlags += result.driftedFeatures.length;
    if (result.datasetDrift) datasetFlags++;
    for (const f of result.features) {
      const t = (byTest[f.test] ??= { tests: 0, flagged: 0 });
      t.tests++;
      if (f.drifted) t.flagged++;
    }
  }
  const rate = Object.fromEntries(Object.entries(byTest).map(([test, t]) => [test, t.flagged / t.tests]));
  return { feature: featureFlags / (seeds * FEATURES.length), dataset: datasetFlags / seeds, tests: Object.keys(byTest).sort(), rate };
}

describe('drift verdicts over many seeds (the default policy)', () => {
  it('small reference (≤ 1,000 rows): KS and the two-sample chi-square flag about 5% of features by chance, and datasets rarely', async () => {
    const r = await rates(800, 800, false, SEEDS);
    console.log('small reference, same distribution:', JSON.stringify(r));
    expect(r.tests).toEqual(['chi-square', 'ks']);
    // 80 KS tests at a 5% level (two numeric features × 40 seeds): the binomial's 99.9% bound is about 14%.
    expect(r.rate.ks).toBeLessThanOrEqual(0.14);
    // The default chi-square is the two-sample test (Evidently's goodness of fit to the reference's shares
    // flagged 42% of these features and called dataset drift in 38% of the seeds): 160 tests (four
    // categorical features × 40 seeds) at 5%, whose 99.9% binomial bound is about 11%.
    expect(r.rate['chi-square']).toBeLessThanOrEqual(0.11);
    expect(r.dataset).toBeLessThanOrEqual(0.1);
  }, 300_000);

  it('large reference (> 1,000 rows: normed Wasserstein and Jensen–Shannon > 0.1): nothing flagged by chance', async () => {
    const r = await rates(3000, 1000, false, SEEDS);
    console.log('large reference, same distribution:', JSON.stringify(r));
    expect(r.tests).toEqual(expect.arrayContaining(['wasserstein', 'jensen-shannon']));
    expect(r.feature).toBeLessThanOrEqual(0.01);
    expect(r.dataset).toBe(0);
  }, 300_000);

  it('flags the shifted data every time, with either reference size', async () => {
    for (const referenceRows of [800, 3000]) {
      const r = await rates(referenceRows, 1000, true, 10);
      console.log(`reference ${referenceRows}, shifted:`, JSON.stringify(r));
      expect(r.dataset).toBe(1);
    }
  }, 300_000);
});
