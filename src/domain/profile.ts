// The profile of a dataset version: what validation checks, what skew and drift monitoring compare
// against. Computed once per dataset version (when it is ingested) and stored beside it. Profiles are
// mergeable: the profile of two parts combines into the profile of the whole (see mergeProfiles).

/** Equal-width bins of a numeric histogram, between the column's min and max. */
export const HISTOGRAM_BINS = 20;
/** Categories kept by count in a text column's profile; the rest are counted together as `otherCount`. */
export const TOP_CATEGORIES = 50;
/** Rows quoted per problem (missing values, values that are not numbers). */
export const EXAMPLE_ROWS = 5;
export const QUANTILE_PROBABILITIES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

export interface Histogram {
  /** HISTOGRAM_BINS + 1 increasing edges; the last bin includes its upper edge. One bin when min = max. */
  edges: number[];
  counts: number[];
}

/**
 * Over the values of a column that are numbers (missing values and text excluded). `count` and the
 * statistics leave out the huge ones; a column whose numbers are all huge has count 0 and zeros.
 */
export interface NumericSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Sum of squared deviations from the mean: with count and mean, merges exactly (Chan et al.). */
  m2: number;
  /** Population standard deviation, sqrt(m2 / count). */
  std: number;
  /** Values at QUANTILE_PROBABILITIES, in that order: from a uniform sample of 65,536 rows for one profile, from the histogram after a merge. */
  quantiles: number[];
  histogram: Histogram;
  /** Values that are infinite or whose magnitude exceeds MAX_SAFE_MAGNITUDE: their squares overflow in training. */
  huge: number;
}

export interface CategoricalSummary {
  /** Distinct present values: a HyperLogLog estimate for one profile (DuckDB's; it can be 30% low on large counts), a lower bound after a merge. */
  distinct: number;
  /** Most frequent values, by count then value. */
  top: { value: string; count: number }[];
  /** Present values not in `top`. */
  otherCount: number;
}

export interface ColumnProfile {
  name: string;
  /** How the column is stored in the dataset's columnar form: DOUBLE when every present value is a number. */
  storedAs: 'numeric' | 'text';
  /** Values that are missing (empty, NA, n/a, NaN, null, None, ?). */
  missing: number;
  /** Present values that are not numbers (0 for numeric columns). */
  nonNumeric: number;
  numeric: NumericSummary | null;
  /** Text columns only. */
  categorical: CategoricalSummary | null;
  examples: {
    /** 1-based data rows (row 1 is the line after the header). */
    missingRows: number[];
    nonNumeric: { row: number; value: string }[];
  };
}

export interface DatasetProfile {
  version: 1;
  rows: number;
  columns: ColumnProfile[];
}

/** Beyond this magnitude a value's square overflows a double's useful range in least squares. */
export const MAX_SAFE_MAGNITUDE = 1e100;

/** Equal-width edges from min to max; one bin [min, max] when every value is the same. */
export function histogramEdges(min: number, max: number, bins = HISTOGRAM_BINS): number[] {
  if (!(max > min)) return [min, max];
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + ((max - min) * i) / bins));
}

/**
 * The bin of `value` on equal-width `edges` (from histogramEdges): values below the first edge go to the
 * first bin, values at or above the last edge to the last bin.
 */
export function binIndex(edges: number[], value: number): number {
  const bins = edges.length - 1;
  const [min, max] = [edges[0], edges[bins]];
  if (!(max > min)) return 0;
  return Math.min(bins - 1, Math.max(0, Math.floor((value - min) / ((max - min) / bins))));
}

/**
 * How many of the histogram's values lie below `x`, assuming the values of each bin are spread uniformly
 * over it (a bin of zero width is a point mass, below x when its value is).
 */
function massBelow(h: Histogram, x: number): number {
  let below = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const [lo, hi] = [h.edges[i], h.edges[i + 1]];
    if (hi > lo) below += h.counts[i] * Math.min(1, Math.max(0, (x - lo) / (hi - lo)));
    else if (lo < x) below += h.counts[i];
  }
  return below;
}

/**
 * The histogram's counts moved onto other `edges`, assuming the values of each bin are spread uniformly
 * over it: fractional counts. Mass below the first edge goes to the first bin, mass above the last edge to
 * the last bin, so the total is kept.
 */
export function rebinHistogram(h: Histogram, edges: number[]): number[] {
  const bins = edges.length - 1;
  const total = h.counts.reduce((s, c) => s + c, 0);
  const out = new Array<number>(bins);
  let before = 0;
  for (let i = 0; i < bins; i++) {
    const upTo = i === bins - 1 ? total : massBelow(h, edges[i + 1]);
    out[i] = upTo - before;
    before = upTo;
  }
  return out;
}

/**
 * Quantiles of the values a histogram counts, by linear interpolation inside the bin where the cumulative
 * count reaches p × total (values uniform within a bin). With exact counts that bin holds the true
 * quantile, so the two differ by less than a bin width, except in a sparse histogram where the true
 * quantile, interpolated between two values, falls in the empty bins between them.
 */
export function quantilesFromHistogram(h: Histogram, probabilities: readonly number[] = QUANTILE_PROBABILITIES): number[] {
  const total = h.counts.reduce((s, c) => s + c, 0);
  return probabilities.map((p) => {
    const target = p * total;
    let before = 0;
    for (let i = 0; i < h.counts.length; i++) {
      const c = h.counts[i];
      if (c > 0 && before + c >= target) return h.edges[i] + (Math.max(0, target - before) / c) * (h.edges[i + 1] - h.edges[i]);
      before += c;
    }
    return h.edges[h.edges.length - 1];
  });
}

/**
 * The profile of the rows of `a` followed by the rows of `b` (a dataset read in parts, or grown by a new
 * batch). Columns are matched by name; a column absent from one side counts as missing in all its rows.
 * Exact: rows, missing, nonNumeric, count, min, max, mean, m2 and std (Chan et al.'s parallel update),
 * huge, the example rows, and the totals of every histogram and category table. Approximate:
 * - histograms: summed when both sides have the same edges; otherwise both are re-binned onto
 *   HISTOGRAM_BINS equal-width bins over the merged [min, max] assuming the values of each bin are
 *   uniform within it, and rounded to whole counts through their cumulative sums (totals stay exact);
 * - quantiles: from the merged histogram (quantilesFromHistogram);
 * - categories: the counts of each side's top values are added, so a value that one side counted only
 *   in its otherCount is undercounted there; exact whenever neither side has an otherCount. `distinct`
 *   becomes a lower bound (the largest of either side's and the number of known top values), and
 *   present values of a side that stored the column as numbers join otherCount (their text is unknown).
 */
export function mergeProfiles(a: DatasetProfile, b: DatasetProfile): DatasetProfile {
  const names = [...new Set([...a.columns.map((c) => c.name), ...b.columns.map((c) => c.name)])];
  const byName = (p: DatasetProfile) => new Map(p.columns.map((c) => [c.name, c]));
  const [inA, inB] = [byName(a), byName(b)];
  return {
    version: 1,
    rows: a.rows + b.rows,
    columns: names.map((name) => mergeColumns(inA.get(name) ?? allMissing(name, a.rows), a.rows, inB.get(name) ?? allMissing(name, b.rows), b.rows)),
  };
}

/** The profile of a column that is missing in all of `rows` rows. */
function allMissing(name: string, rows: number): ColumnProfile {
  return {
    name,
    storedAs: 'numeric',
    missing: rows,
    nonNumeric: 0,
    numeric: null,
    categorical: null,
    examples: { missingRows: Array.from({ length: Math.min(rows, EXAMPLE_ROWS) }, (_, i) => i + 1), nonNumeric: [] },
  };
}

function mergeColumns(a: ColumnProfile, rowsA: number, b: ColumnProfile, rowsB: number): ColumnProfile {
  const storedAs = a.storedAs === 'text' || b.storedAs === 'text' ? 'text' : 'numeric';
  return {
    name: a.name,
    storedAs,
    missing: a.missing + b.missing,
    nonNumeric: a.nonNumeric + b.nonNumeric,
    numeric: a.numeric && b.numeric ? mergeNumeric(a.numeric, b.numeric) : (a.numeric ?? b.numeric),
    categorical: storedAs === 'text' ? mergeCategorical(a, rowsA, b, rowsB) : null,
    examples: {
      missingRows: [...a.examples.missingRows, ...b.examples.missingRows.map((r) => r + rowsA)].slice(0, EXAMPLE_ROWS),
      nonNumeric: [...a.examples.nonNumeric, ...b.examples.nonNumeric.map((e) => ({ row: e.row + rowsA, value: e.value }))].slice(0, EXAMPLE_ROWS),
    },
  };
}

function mergeNumeric(a: NumericSummary, b: NumericSummary): NumericSummary {
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * b.count) / count;
  const m2 = a.m2 + b.m2 + ((delta * delta * a.count) / count) * b.count;
  const histogram = mergeHistograms(a.histogram, b.histogram, Math.min(a.min, b.min), Math.max(a.max, b.max));
  return {
    count,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    mean,
    m2,
    std: Math.sqrt(m2 / count),
    quantiles: quantilesFromHistogram(histogram),
    histogram,
    huge: a.huge + b.huge,
  };
}

function mergeHistograms(a: Histogram, b: Histogram, min: number, max: number): Histogram {
  if (a.edges.length === b.edges.length && a.edges.every((e, i) => e === b.edges[i])) {
    return { edges: [...a.edges], counts: a.counts.map((c, i) => c + b.counts[i]) };
  }
  const edges = histogramEdges(min, max);
  const [fromA, fromB] = [rebinHistogram(a, edges), rebinHistogram(b, edges)];
  // Rounding the cumulative counts keeps whole counts whose sum is exact.
  const counts: number[] = [];
  let [cumulative, rounded] = [0, 0];
  for (let i = 0; i < fromA.length; i++) {
    cumulative += fromA[i] + fromB[i];
    const next = Math.round(cumulative);
    counts.push(next - rounded);
    rounded = next;
  }
  return { edges, counts };
}

function mergeCategorical(a: ColumnProfile, rowsA: number, b: ColumnProfile, rowsB: number): CategoricalSummary {
  const counts = new Map<string, number>();
  let present = 0;
  for (const [side, rows] of [
    [a, rowsA],
    [b, rowsB],
  ] as const) {
    present += rows - side.missing;
    for (const t of side.categorical?.top ?? []) counts.set(t.value, (counts.get(t.value) ?? 0) + t.count);
  }
  const top = [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0))
    .slice(0, TOP_CATEGORIES);
  return {
    distinct: Math.max(a.categorical?.distinct ?? 0, b.categorical?.distinct ?? 0, counts.size),
    top,
    otherCount: present - top.reduce((s, t) => s + t.count, 0),
  };
}
