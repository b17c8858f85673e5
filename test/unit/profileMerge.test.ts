import { describe, expect, it } from 'vitest';
import {
  EXAMPLE_ROWS,
  MAX_SAFE_MAGNITUDE,
  QUANTILE_PROBABILITIES,
  TOP_CATEGORIES,
  binIndex,
  histogramEdges,
  mergeProfiles,
  quantilesFromHistogram,
  rebinHistogram,
  type ColumnProfile,
  type DatasetProfile,
} from '../../src/domain/profile';

// A naive reference profiler over JS arrays of cells (as read from a file), independent of DuckDB:
// quantiles are exact (linear interpolation between order statistics), m2 is computed in two passes.
type Data = Record<string, string[]>;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const isMissing = (cell: string) => ['', 'na', 'n/a', 'nan', 'null', 'none', '?'].includes(cell.trim().toLowerCase());

function quantile(sorted: number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  return lo + 1 < sorted.length ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

function naiveColumn(name: string, cells: string[]): ColumnProfile {
  const missingRows: number[] = [];
  const numbers: number[] = [];
  const texts: { row: number; value: string }[] = [];
  const present: string[] = [];
  cells.forEach((cell, i) => {
    if (isMissing(cell)) return void missingRows.push(i + 1);
    const v = cell.trim();
    present.push(v);
    if (NUMBER.test(v)) numbers.push(Number(v));
    else texts.push({ row: i + 1, value: v });
  });
  const storedAs = texts.length > 0 ? 'text' : 'numeric';
  let numeric: ColumnProfile['numeric'] = null;
  if (numbers.length > 0) {
    const sorted = [...numbers].sort((x, y) => x - y);
    const [min, max] = [sorted[0], sorted[sorted.length - 1]];
    const mean = numbers.reduce((s, v) => s + v, 0) / numbers.length;
    const m2 = numbers.reduce((s, v) => s + (v - mean) ** 2, 0);
    const edges = histogramEdges(min, max);
    const counts = new Array<number>(edges.length - 1).fill(0);
    for (const v of numbers) counts[binIndex(edges, v)]++;
    numeric = {
      count: numbers.length,
      min,
      max,
      mean,
      m2,
      std: Math.sqrt(m2 / numbers.length),
      quantiles: QUANTILE_PROBABILITIES.map((p) => quantile(sorted, p)),
      histogram: { edges, counts },
      huge: numbers.filter((v) => Math.abs(v) > MAX_SAFE_MAGNITUDE).length,
    };
  }
  let categorical: ColumnProfile['categorical'] = null;
  if (storedAs === 'text') {
    const counts = new Map<string, number>();
    for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
    const ranked = [...counts].map(([value, count]) => ({ value, count })).sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : 1));
    const top = ranked.slice(0, TOP_CATEGORIES);
    categorical = { distinct: counts.size, top, otherCount: present.length - top.reduce((s, t) => s + t.count, 0) };
  }
  return {
    name,
    storedAs,
    missing: missingRows.length,
    nonNumeric: storedAs === 'text' ? texts.length : 0,
    numeric,
    categorical,
    examples: { missingRows: missingRows.slice(0, EXAMPLE_ROWS), nonNumeric: storedAs === 'text' ? texts.slice(0, EXAMPLE_ROWS) : [] },
  };
}

function naiveProfile(data: Data): DatasetProfile {
  const names = Object.keys(data);
  return { version: 1, rows: data[names[0]].length, columns: names.map((n) => naiveColumn(n, data[n])) };
}

const slice = (data: Data, from: number, to: number): Data => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.slice(from, to)]));

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const normal = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const N = 1000;
/** Row 500..599 are missing in every row of `sparse` (an all-missing part in the five-way split). */
function generate(): Data {
  const r = rng(42);
  const data: Data = { x: [], k: [], colour: [], mixed: [], sparse: [], skewed: [] };
  const colours = ['red', 'green', 'blue', 'amber', 'violet', 'teal', '<b>&"x"'];
  for (let i = 0; i < N; i++) {
    data.x.push(r() < 0.05 ? (r() < 0.5 ? '' : 'NA') : (10 + 3 * normal(r)).toFixed(4));
    data.k.push('7');
    data.colour.push(r() < 0.03 ? 'null' : colours[Math.floor(r() ** 2 * colours.length)]);
    data.mixed.push(r() < 0.02 ? 'twelve' : r() < 0.05 ? '?' : String(Math.floor(r() * 40)));
    data.sparse.push(i >= 500 && i < 600 ? 'n/a' : r() < 0.5 ? '' : (r() * 1e6 - 5e5).toFixed(1));
    data.skewed.push(String(Math.exp(2 * normal(r)) * (i < 300 ? 1 : 50)));
  }
  return data;
}

function relClose(actual: number, expected: number, rel = 1e-9) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(Math.abs(expected), 1e-300) + 1e-12);
}

/** `numericParts`: columns that some part stored as numbers, whose category counts the merge cannot know. */
function expectMatchesWhole(merged: DatasetProfile, whole: DatasetProfile, { quantiles = true, numericParts = new Set<string>() } = {}) {
  expect(merged.rows).toBe(whole.rows);
  expect(merged.columns.map((c) => c.name)).toEqual(whole.columns.map((c) => c.name));
  for (const w of whole.columns) {
    const m = merged.columns.find((c) => c.name === w.name)!;
    expect({ name: m.name, storedAs: m.storedAs, missing: m.missing, nonNumeric: m.nonNumeric, examples: m.examples }).toEqual({
      name: w.name,
      storedAs: w.storedAs,
      missing: w.missing,
      nonNumeric: w.nonNumeric,
      examples: w.examples,
    });
    if (!numericParts.has(w.name)) expect(m.categorical).toEqual(w.categorical);
    else {
      const total = (c: NonNullable<ColumnProfile['categorical']>) => c.top.reduce((s, t) => s + t.count, c.otherCount);
      expect(total(m.categorical!)).toBe(total(w.categorical!));
      for (const t of m.categorical!.top) expect(t.count).toBeLessThanOrEqual(w.categorical!.top.find((x) => x.value === t.value)!.count);
      expect(m.categorical!.distinct).toBeLessThanOrEqual(w.categorical!.distinct);
    }
    if (!w.numeric) {
      expect(m.numeric).toBeNull();
      continue;
    }
    const [mn, wn] = [m.numeric!, w.numeric];
    expect([mn.count, mn.min, mn.max, mn.huge]).toEqual([wn.count, wn.min, wn.max, wn.huge]);
    relClose(mn.mean, wn.mean);
    relClose(mn.std, wn.std);
    relClose(mn.m2, wn.m2);
    expect(mn.histogram.edges).toEqual(wn.histogram.edges);
    expect(mn.histogram.counts.reduce((s, c) => s + c, 0)).toBe(wn.count);
    expect(mn.histogram.counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true);
    if (!quantiles) continue;
    const width = wn.histogram.edges[1] - wn.histogram.edges[0];
    mn.quantiles.forEach((q, i) => expect(Math.abs(q - wn.quantiles[i]), `${w.name} q${QUANTILE_PROBABILITIES[i]}`).toBeLessThanOrEqual(width));
  }
}

describe('mergeProfiles', () => {
  const data = generate();
  const whole = naiveProfile(data);

  it('the generated data covers the cases: a text column, a constant one, missing values, huge magnitudes aside', () => {
    const col = (n: string) => whole.columns.find((c) => c.name === n)!;
    expect(col('colour').storedAs).toBe('text');
    expect(col('mixed').storedAs).toBe('text');
    expect(col('mixed').numeric!.count).toBeGreaterThan(900);
    expect(col('k').numeric!.std).toBe(0);
    expect(col('k').numeric!.histogram.edges).toEqual([7, 7]);
    expect(col('x').missing).toBeGreaterThan(0);
  });

  it.each([
    ['two halves', [0, 500, N]],
    ['two unequal parts', [0, 137, N]],
    // A single-row part, a part where `sparse` is all missing, parts whose `mixed` holds no text.
    ['five parts', [0, 1, 500, 600, 620, N]],
    ['five equal parts', [0, 200, 400, 600, 800, N]],
  ])('%s merge into the profile of the whole', (_, cuts) => {
    const parts = cuts.slice(1).map((to, i) => naiveProfile(slice(data, cuts[i], to)));
    const numericParts = new Set(whole.columns.filter((w) => w.storedAs === 'text' && parts.some((p) => p.columns.find((c) => c.name === w.name)!.storedAs === 'numeric')).map((w) => w.name));
    expect(numericParts.size > 0).toBe(parts.length === 5 && cuts[1] === 1);
    expectMatchesWhole(parts.reduce(mergeProfiles), whole, { numericParts });
    // Merged in another order of grouping (((a b) (c d)) e …): the same counts.
    const paired = parts.length > 2 ? mergeProfiles(mergeProfiles(parts[0], parts[1]), parts.slice(2).reduce(mergeProfiles)) : null;
    if (paired) expectMatchesWhole(paired, whole, { numericParts });
  });

  it('is associative on counts', () => {
    const [a, b, c] = [naiveProfile(slice(data, 0, 300)), naiveProfile(slice(data, 300, 310)), naiveProfile(slice(data, 310, N))];
    const [left, right] = [mergeProfiles(mergeProfiles(a, b), c), mergeProfiles(a, mergeProfiles(b, c))];
    const counts = (p: DatasetProfile) =>
      p.columns.map((col) => ({
        rows: p.rows,
        missing: col.missing,
        nonNumeric: col.nonNumeric,
        count: col.numeric?.count,
        huge: col.numeric?.huge,
        min: col.numeric?.min,
        max: col.numeric?.max,
        histogramTotal: col.numeric?.histogram.counts.reduce((s, x) => s + x, 0),
        categorical: col.categorical,
        examples: col.examples,
      }));
    expect(counts(left)).toEqual(counts(right));
  });

  it('treats a column absent from one side as missing in all of its rows', () => {
    const a = naiveProfile({ x: ['1', '2', '3'] });
    const b = naiveProfile({ x: ['4', '', '6', '7'], extra: ['u', 'v', '', 'v'] });
    const merged = mergeProfiles(a, b);
    // Seven values: quantiles interpolated between them are not a histogram's (see the generated data).
    expectMatchesWhole(merged, naiveProfile({ x: ['1', '2', '3', '4', '', '6', '7'], extra: ['', '', '', 'u', 'v', '', 'v'] }), { quantiles: false });
    expect(merged.columns.map((c) => c.name)).toEqual(['x', 'extra']);
  });

  it('a column that is text on one side only becomes text; the numeric side’s values join otherCount', () => {
    const a = naiveProfile({ z: ['1', '2', '2'] });
    const b = naiveProfile({ z: ['a', '2', 'b', ''] });
    const merged = mergeProfiles(a, b).columns[0];
    const whole = naiveProfile({ z: ['1', '2', '2', 'a', '2', 'b', ''] }).columns[0];
    expect(merged.storedAs).toBe('text');
    expect([merged.missing, merged.nonNumeric, merged.examples]).toEqual([whole.missing, whole.nonNumeric, whole.examples]);
    expect(merged.numeric!.count).toBe(4);
    relClose(merged.numeric!.mean, whole.numeric!.mean);
    // Totals exact; counts of values known only from the text side; distinct a lower bound.
    expect(merged.categorical!.top).toEqual([
      { value: '2', count: 1 },
      { value: 'a', count: 1 },
      { value: 'b', count: 1 },
    ]);
    expect(merged.categorical!.otherCount).toBe(3);
    expect(merged.categorical!.distinct).toBeLessThanOrEqual(whole.categorical!.distinct);
  });

  it('with more categories than it keeps, totals stay exact and counts and distinct are lower bounds', () => {
    const r = rng(7);
    const values = Array.from({ length: 4000 }, () => `c${Math.floor(r() ** 3 * 120)}`);
    const whole = naiveProfile({ c: values }).columns[0].categorical!;
    const merged = [0, 1000, 2500, 4000]
      .slice(1)
      .map((to, i, all) => naiveProfile({ c: values.slice(i === 0 ? 0 : all[i - 1], to) }))
      .reduce(mergeProfiles).columns[0].categorical!;
    expect(merged.top).toHaveLength(TOP_CATEGORIES);
    expect(merged.top.reduce((s, t) => s + t.count, 0) + merged.otherCount).toBe(4000);
    const truth = new Map(whole.top.map((t) => [t.value, t.count]));
    for (const t of merged.top) {
      const exact = truth.get(t.value) ?? values.filter((v) => v === t.value).length;
      expect(t.count).toBeLessThanOrEqual(exact);
    }
    expect(merged.distinct).toBeLessThanOrEqual(whole.distinct);
    // The most frequent values dominate every part, so the head of the table is exact.
    expect(merged.top.slice(0, 10)).toEqual(whole.top.slice(0, 10));
  });

  it('merging with an empty profile changes nothing', () => {
    const p = naiveProfile(slice(data, 0, 50));
    expect(mergeProfiles({ version: 1, rows: 0, columns: [] }, p)).toEqual(p);
    expect(mergeProfiles(p, { version: 1, rows: 0, columns: [] })).toEqual(p);
  });
});

describe('histogram helpers', () => {
  it('quantiles interpolate linearly inside the bin', () => {
    const h = { edges: [0, 10, 20, 30], counts: [10, 0, 10] };
    expect(quantilesFromHistogram(h, [0, 0.25, 0.5, 0.75, 1])).toEqual([0, 5, 10, 25, 30]);
    expect(quantilesFromHistogram({ edges: [4, 4], counts: [3] }, [0.01, 0.99])).toEqual([4, 4]);
  });

  it('re-binning spreads each bin uniformly, keeps the total and clamps to the outer bins', () => {
    const h = { edges: [0, 10, 20], counts: [10, 20] };
    expect(rebinHistogram(h, [0, 5, 10, 15, 20])).toEqual([5, 5, 10, 10]);
    expect(rebinHistogram(h, [5, 15])).toEqual([30]);
    expect(rebinHistogram(h, [2, 4, 6])).toEqual([4, 26]);
    // A point mass lands in the bin that holds it (the last bin holds its upper edge).
    expect(rebinHistogram({ edges: [3, 3], counts: [7] }, [0, 3, 6])).toEqual([0, 7]);
    expect(rebinHistogram({ edges: [6, 6], counts: [7] }, [0, 3, 6])).toEqual([0, 7]);
  });

  it('binIndex follows the profiler: outside values clamp, the last bin holds the maximum', () => {
    const edges = histogramEdges(0, 20, 4);
    expect(edges).toEqual([0, 5, 10, 15, 20]);
    expect([-1, 0, 4.99, 5, 19.9, 20, 25].map((v) => binIndex(edges, v))).toEqual([0, 0, 0, 1, 3, 3, 3]);
  });
});
