// profileColumnar against a naive profiler: the same generated data (missing values in every spelling, huge
// values, a text column of mostly numbers, a categorical column with more than 50 categories) is written
// as CSV, built and profiled by DuckDB, and recomputed here from the generator's own values.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildColumnar } from '../../src/data/columnar';
import { queryRows, withDuckDB } from '../../src/data/duckdb';
import { binCounts, binOf, profileColumnar } from '../../src/data/profiler';
import { mulberry32 } from '../../src/domain/split';
import {
  EXAMPLE_ROWS,
  HISTOGRAM_BINS,
  histogramEdges,
  MAX_SAFE_MAGNITUDE,
  QUANTILE_PROBABILITIES,
  TOP_CATEGORIES,
  type ColumnProfile,
  type DatasetProfile,
} from '../../src/domain/profile';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-profiler-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));


/** The split's seeded generator, so the data is the same on every run. */
const random = mulberry32;

/** A cell as written, and what it is: missing, a number (with its value), or text. */
type Cell = { text: string; kind: 'missing' } | { text: string; kind: 'number'; value: number } | { text: string; kind: 'text' };
const MISSING = ['', 'NA', 'n/a', 'NaN', 'null', 'None', '?', 'NULL', 'none', 'N/A'];
/** Padded spellings: missing too, but a CSV column of numbers holding one is stored as text (reported), so text columns only. */
const PADDED = [' NA ', ' null', '? '];

function generate(rows: number, seed: number): Record<string, Cell[]> {
  const next = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const missing = (padded = false): Cell => ({ text: pick(padded ? [...MISSING, ...PADDED] : MISSING), kind: 'missing' });
  const number = (value: number, text = String(value)): Cell => ({ text, kind: 'number', value });
  const columns: Record<string, Cell[]> = { x: [], mixed: [], cat: [], constant: [], words: [], empty: [] };
  for (let r = 0; r < rows; r++) {
    // x: numbers (3 decimals, a long right tail), 3% missing, a few huge values.
    const u = next();
    if (u < 0.03) columns.x.push(missing());
    else if (u < 0.031) columns.x.push(pick([number(Infinity, 'Infinity'), number(-Infinity, '-1e999'), number(1e200, '1e200'), number(-1e150, '-1e150')]));
    else {
      const v = Math.round(-Math.log(next()) * 1000 * (next() < 0.5 ? 1 : 3)) / 1000 - 50;
      columns.x.push(number(v, next() < 0.1 ? ` ${v} ` : String(v)));
    }
    // mixed: mostly integers, some words, some missing: stored as text, profiled as numbers too.
    const w = next();
    columns.mixed.push(w < 0.05 ? missing(true) : w < 0.1 ? { text: pick(['abc', 'n.a.', '12k', '-']), kind: 'text' } : number(Math.floor(next() * 500)));
    // cat: 70 categories with a skewed frequency (more than TOP_CATEGORIES), 2% missing.
    columns.cat.push(next() < 0.02 ? missing(true) : { text: `c${String(Math.floor(70 * next() ** 2)).padStart(2, '0')}`, kind: 'text' });
    columns.constant.push(number(7));
    columns.words.push({ text: pick(['diesel', 'petrol', 'electric']), kind: 'text' });
    columns.empty.push(missing(true));
  }
  return columns;
}

function toCsv(columns: Record<string, Cell[]>): string {
  const names = Object.keys(columns);
  const lines = [names.join(',')];
  for (let r = 0; r < columns[names[0]].length; r++) lines.push(names.map((n) => columns[n][r].text).join(','));
  return `${lines.join('\n')}\n`;
}

async function profileCsv(text: string): Promise<DatasetProfile> {
  const file = path.join(dir, `in-${++counter}.csv`);
  const out = path.join(dir, `out-${counter}.parquet`);
  await fs.writeFile(file, text);
  return withDuckDB({}, async (db) => profileColumnar(db, out, await buildColumnar(db, [file], out, { format: 'csv', encoding: 'utf-8', keepAsText: [] })));
}

/** The naive profile of one column, from the generator's values. */
function naive(cells: Cell[]) {
  const present = cells.filter((c) => c.kind !== 'missing');
  const numbers = cells.flatMap((c) => (c.kind === 'number' ? [c.value] : []));
  const safe = numbers.filter((v) => Math.abs(v) <= MAX_SAFE_MAGNITUDE);
  const huge = numbers.length - safe.length;
  const count = safe.length;
  const mean = safe.reduce((s, v) => s + v, 0) / count;
  const m2 = safe.reduce((s, v) => s + (v - mean) ** 2, 0);
  const min = Math.min(...safe);
  const max = Math.max(...safe);
  let edges: number[] = [min, max];
  let counts = [count];
  if (max > min) {
    const width = (max - min) / HISTOGRAM_BINS;
    edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => (i === HISTOGRAM_BINS ? max : min + width * i));
    counts = new Array<number>(HISTOGRAM_BINS).fill(0);
    for (const v of safe) counts[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((v - min) / width)))]++;
  }
  const tally = new Map<string, number>();
  for (const c of present) tally.set(c.text.trim(), (tally.get(c.text.trim()) ?? 0) + 1);
  const top = [...tally]
    .map(([value, n]) => ({ value, count: n }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
    .slice(0, TOP_CATEGORIES);
  const rowsOf = (want: (c: Cell) => boolean) => cells.flatMap((c, i) => (want(c) ? [i + 1] : []));
  return {
    missing: cells.length - present.length,
    nonNumeric: present.length - numbers.length,
    count,
    huge,
    mean,
    m2,
    min,
    max,
    sorted: [...safe].sort((a, b) => a - b),
    edges,
    counts,
    distinct: tally.size,
    top,
    otherCount: present.length - top.reduce((s, t) => s + t.count, 0),
    missingRows: rowsOf((c) => c.kind === 'missing').slice(0, EXAMPLE_ROWS),
    nonNumericExamples: cells
      .flatMap((c, i) => (c.kind === 'text' ? [{ row: i + 1, value: c.text.trim() }] : []))
      .slice(0, EXAMPLE_ROWS),
  };
}

/**
 * The share of `sorted` below q and at or below q: a returned quantile q for probability p is right when
 * p lies between the two, give or take `tolerance` (a rank error).
 */
function rankOf(sorted: number[], q: number): { below: number; atOrBelow: number } {
  let below = 0;
  let atOrBelow = 0;
  for (const v of sorted) {
    if (v < q) below++;
    if (v <= q) atOrBelow++;
  }
  return { below: below / sorted.length, atOrBelow: atOrBelow / sorted.length };
}

function expectNumericSummary(column: ColumnProfile, expected: ReturnType<typeof naive>) {
  const n = column.numeric!;
  expect(n).not.toBeNull();
  expect(n.count).toBe(expected.count);
  expect(n.huge).toBe(expected.huge);
  expect(n.min).toBe(expected.min);
  expect(n.max).toBe(expected.max);
  expect(n.mean).toBeCloseTo(expected.mean, 9);
  expect(Math.abs(n.m2 - expected.m2)).toBeLessThanOrEqual(1e-9 * Math.max(1, expected.m2));
  expect(n.std).toBeCloseTo(Math.sqrt(expected.m2 / expected.count), 9);
  expect(n.histogram.edges).toHaveLength(expected.edges.length);
  n.histogram.edges.forEach((e, i) => expect(e).toBeCloseTo(expected.edges[i], 9));
  expect(n.histogram.counts).toEqual(expected.counts);
  expect(n.histogram.counts.reduce((s, c) => s + c, 0)).toBe(n.count);
  expect(n.quantiles).toHaveLength(QUANTILE_PROBABILITIES.length);
}

describe('profileColumnar against a naive profiler (100,000 generated rows)', () => {
  const ROWS = 100_000;
  const data = generate(ROWS, 20261126);
  let profile: DatasetProfile;
  const col = (name: string) => profile.columns.find((c) => c.name === name)!;
  beforeAll(async () => {
    profile = await profileCsv(toCsv(data));
  });

  it('counts rows and, per column, missing values and present values that are not numbers', () => {
    expect(profile.version).toBe(1);
    expect(profile.rows).toBe(ROWS);
    expect(profile.columns.map((c) => c.name)).toEqual(Object.keys(data));
    for (const [name, cells] of Object.entries(data)) {
      const expected = naive(cells);
      expect({ name, missing: col(name).missing, nonNumeric: col(name).nonNumeric }).toEqual({ name, missing: expected.missing, nonNumeric: expected.nonNumeric });
    }
    expect(naive(data.x).missing).toBeGreaterThan(2500); // the data has what it is meant to have
    expect(naive(data.x).huge).toBeGreaterThan(50);
    expect(naive(data.mixed).nonNumeric).toBeGreaterThan(4000);
  });

  it('stores each column as the data says', () => {
    expect(profile.columns.map((c) => [c.name, c.storedAs])).toEqual([
      ['x', 'numeric'],
      ['mixed', 'text'],
      ['cat', 'text'],
      ['constant', 'numeric'],
      ['words', 'text'],
      ['empty', 'text'],
    ]);
  });

  it('numeric summary of a numeric column with missing and huge values: count, min, max, mean, m2, std, huge, histogram', () => {
    expectNumericSummary(col('x'), naive(data.x));
    expect(col('x').categorical).toBeNull();
  });

  it('numeric summary of the numbers in a text column', () => {
    expectNumericSummary(col('mixed'), naive(data.mixed));
  });

  // The quantiles come from a 65,536-value sample of 100,000 values in random order. For a uniform sample
  // of m from N (without replacement), the population rank of the sample's p-quantile has standard deviation
  // about sqrt(p(1-p)/m * (N-m)/(N-1)) <= sqrt(0.25/65536 * 0.345) = 0.00115; a rank tolerance of 0.01 is
  // more than 8 standard deviations.
  it('quantiles within 0.01 in rank of the exact ones', () => {
    for (const name of ['x', 'mixed']) {
      const { sorted } = naive(data[name]);
      col(name).numeric!.quantiles.forEach((q, k) => {
        const p = QUANTILE_PROBABILITIES[k];
        const { below, atOrBelow } = rankOf(sorted, q);
        expect({ name, p, ok: below - 0.01 <= p && p <= atOrBelow + 0.01 }).toEqual({ name, p, ok: true });
      });
      expect(col(name).numeric!.quantiles).toEqual([...col(name).numeric!.quantiles].sort((a, b) => a - b));
    }
  });

  it('a constant column: one bin [7, 7] holding every row, zero spread, every quantile 7', () => {
    expect(col('constant').numeric).toEqual({
      count: ROWS,
      min: 7,
      max: 7,
      mean: 7,
      m2: 0,
      std: 0,
      quantiles: QUANTILE_PROBABILITIES.map(() => 7),
      histogram: { edges: [7, 7], counts: [ROWS] },
      huge: 0,
    });
  });

  it('categorical summary: the top 50 values by count then value, the rest counted as other, distinct estimated', () => {
    for (const name of ['cat', 'mixed', 'words']) {
      const expected = naive(data[name]);
      const c = col(name).categorical!;
      expect(c.top).toEqual(expected.top);
      expect(c.otherCount).toBe(expected.otherCount);
      // An estimate (HyperLogLog with 64 registers: standard error 1.04/sqrt(64) = 13%): within 3 standard errors.
      expect(Math.abs(c.distinct - expected.distinct)).toBeLessThanOrEqual(0.39 * expected.distinct);
      expect(c.distinct).toBeGreaterThanOrEqual(c.top.length);
    }
    expect(naive(data.cat).distinct).toBe(70);
    expect(naive(data.cat).otherCount).toBeGreaterThan(0);
    expect(col('words').categorical!.distinct).toBe(3);
  });

  it('a column with no values: every row missing, no numbers, no categories', () => {
    expect(col('empty')).toEqual({
      name: 'empty',
      storedAs: 'text',
      missing: ROWS,
      nonNumeric: 0,
      numeric: null,
      categorical: { distinct: 0, top: [], otherCount: 0 },
      examples: { missingRows: [1, 2, 3, 4, 5], nonNumeric: [] },
    });
  });

  it('examples: the first five missing rows and the first five values that are not numbers, rows numbered from 1', () => {
    for (const name of ['x', 'mixed', 'cat']) {
      const expected = naive(data[name]);
      expect(col(name).examples.missingRows).toEqual(expected.missingRows);
    }
    expect(col('mixed').examples.nonNumeric).toEqual(naive(data.mixed).nonNumericExamples);
    expect(col('mixed').examples.nonNumeric).toHaveLength(EXAMPLE_ROWS);
    expect(col('x').examples.nonNumeric).toEqual([]);
  });

  it('a text column without numbers lists its first values as the ones that are not numbers', () => {
    expect(col('words').examples.nonNumeric).toEqual(naive(data.words).nonNumericExamples);
  });
});

describe('profileColumnar on small data', () => {
  it('quantiles of fewer values than the sample lie between the two order statistics around p(n-1)', async () => {
    const data = generate(501, 7);
    const profile = await profileCsv(toCsv({ x: data.x }));
    const { sorted } = naive(data.x);
    profile.columns[0].numeric!.quantiles.forEach((q, k) => {
      const at = QUANTILE_PROBABILITIES[k] * (sorted.length - 1);
      // Interpolation may round in the last bit.
      expect(q).toBeGreaterThanOrEqual(sorted[Math.floor(at)] - 1e-9 * Math.abs(sorted[Math.floor(at)]));
      expect(q).toBeLessThanOrEqual(sorted[Math.ceil(at)] + 1e-9 * Math.abs(sorted[Math.ceil(at)]));
    });
  });

  it('a header-only file: no rows, nothing missing', async () => {
    const profile = await profileCsv('a,b\n');
    expect(profile.rows).toBe(0);
    expect(profile.columns.map((c) => [c.name, c.missing, c.nonNumeric, c.numeric])).toEqual([
      ['a', 0, 0, null],
      ['b', 0, 0, null],
    ]);
  });

  it('hand-computed: 1, 2, 3, 4 and a missing value', async () => {
    const profile = await profileCsv('v\n1\n2\n\n3\n4\n');
    const v = profile.columns[0];
    expect(v.missing).toBe(1);
    expect(v.examples.missingRows).toEqual([3]);
    // mean 2.5, m2 = 2.25 + 0.25 + 0.25 + 2.25 = 5, std = sqrt(5/4)
    expect(v.numeric).toMatchObject({ count: 4, min: 1, max: 4, mean: 2.5, m2: 5, std: Math.sqrt(1.25), huge: 0 });
    // Edges 1, 1.15, ..., 4: 1 in bin 0, 2 in bin floor(1/0.15) = 6, 3 in bin 13, 4 in the last bin.
    const counts = new Array<number>(20).fill(0);
    counts[0] = counts[6] = counts[13] = counts[19] = 1;
    expect(v.numeric!.histogram.counts).toEqual(counts);
  });

  it('distinct of a column of few values is the HyperLogLog estimate over every row (38 for these 37 values)', async () => {
    const lines = Array.from({ length: 3700 }, (_, i) => `level ${i % 37}`);
    const profile = await profileCsv(`v\n${lines.join('\n')}\n`);
    const [direct] = await withDuckDB({}, (db) => queryRows(db, `SELECT approx_count_distinct(v) AS d FROM (VALUES ${lines.map((l) => `('${l}')`).join(', ')}) t(v)`));
    expect(direct.d).toBe(38);
    expect(profile.columns[0].categorical).toMatchObject({ distinct: 38, otherCount: 0 });
  });

  // A running variance update (var_pop) was 3e-14 off here; sums of squared deviations about the mean,
  // compensated, are exact on these values (multiples of 0.25, so the exact m2 is known).
  it('m2 of 1,200,000 values far from zero is exact to within rounding of the result', async () => {
    const rows = 1_200_000;
    const out = path.join(dir, `m2-${++counter}.parquet`);
    const profile = await withDuckDB({}, async (db) => {
      await db.run(`COPY (SELECT 1000 + i % 4 + (i % 3) * 0.25 AS x FROM range(${rows}) t(i)) TO '${out}' (FORMAT parquet)`);
      return profileColumnar(db, out, { rows, delimiter: null, columns: [{ name: 'x', storedAs: 'numeric', hasNumbers: true }] });
    });
    // In quarters: q = 4000 + 4 (i mod 4) + (i mod 3); m2 = (n Σq² − (Σq)²) / (16 n), exactly in integers.
    let [sum, squares] = [0n, 0n];
    for (let i = 0; i < rows; i++) {
      const q = BigInt(4000 + 4 * (i % 4) + (i % 3));
      [sum, squares] = [sum + q, squares + q * q];
    }
    const m2 = Number(BigInt(rows) * squares - sum * sum) / (16 * rows);
    const n = profile.columns[0].numeric!;
    expect(n.mean).toBe(Number(sum) / 4 / rows);
    expect(Math.abs(n.m2 - m2) / m2).toBeLessThanOrEqual(Number.EPSILON);
    expect(n.std).toBe(Math.sqrt(n.m2 / rows));
  });

  // Engine bug (reported): DuckDB 1.5's reservoir_quantile keeps the first 65,536 values it sees instead of
  // a uniform sample, so on data sorted by the column (dates, ids, a sorted target) the quantiles are those
  // of the first 65,536 rows: here the median of 1..100,000 comes out as 32,768.
  it('quantiles of a sorted column of 100,000 values are right within 0.01 in rank', async () => {
    const profile = await profileCsv(`id\n${Array.from({ length: 100_000 }, (_, i) => i + 1).join('\n')}\n`);
    const median = profile.columns[0].numeric!.quantiles[QUANTILE_PROBABILITIES.indexOf(0.5)];
    expect(Math.abs(median - 50_000)).toBeLessThanOrEqual(1000);
  });
});

describe('histogram helpers', () => {
  it('histogramEdges: equal widths from min to max, the last edge exactly max; one bin when min = max', () => {
    const edges = histogramEdges(-1, 0.3);
    expect(edges).toHaveLength(HISTOGRAM_BINS + 1);
    expect(edges[0]).toBe(-1);
    expect(edges[HISTOGRAM_BINS]).toBe(0.3);
    for (let i = 1; i <= HISTOGRAM_BINS; i++) expect(edges[i] - edges[i - 1]).toBeCloseTo(0.065, 12);
    expect(histogramEdges(5, 5)).toEqual([5, 5]);
    expect(histogramEdges(0, 10, 4)).toEqual([0, 2.5, 5, 7.5, 10]);
  });

  it('binOf (SQL) and binCounts: values outside go to the end bins; missing and non-finite values to none', async () => {
    const edges = histogramEdges(0, 10, 4);
    const rows = await withDuckDB({}, (db) =>
      queryRows(db, `SELECT x, ${binOf('x', edges)} AS bin FROM (VALUES (-5.0), (0.0), (2.4999), (2.5), (9.99), (10.0), (25.0), (NULL), ('inf'::DOUBLE), ('nan'::DOUBLE)) t(x)`),
    );
    expect(rows.map((r) => r.bin)).toEqual([0, 0, 0, 1, 3, 3, 3, null, null, null]);
    const [h] = await withDuckDB({}, (db) => queryRows(db, `SELECT histogram(${binOf('x', edges)}) AS h FROM (VALUES (1.0), (3.0), (3.5), (9.0), (NULL)) t(x)`));
    expect(binCounts(h.h, 4)).toEqual([1, 2, 0, 1]);
    const [one] = await withDuckDB({}, (db) => queryRows(db, `SELECT histogram(${binOf('x', [5, 5])}) AS h FROM (VALUES (5.0), (5.0), (NULL)) t(x)`));
    expect(binCounts(one.h, 1)).toEqual([2]);
  });

  it('binCounts reads both shapes of a DuckDB map, and nothing as zeros', () => {
    expect(binCounts({ 0: 2, 3: 5 }, 4)).toEqual([2, 0, 0, 5]);
    expect(binCounts([{ key: 1, value: 4n }], 3)).toEqual([0, 4, 0]);
    expect(binCounts(null, 2)).toEqual([0, 0]);
  });
});
