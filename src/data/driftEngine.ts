// Drift between two datasets in their typed columnar form (Parquet written by buildColumnar), computed by
// DuckDB: a few column scans per side whatever the row count, on DuckDB's own threads under its memory cap,
// so an activity's event loop keeps heartbeating. The tests and verdicts are the domain's (driftPolicy).
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  binnedNormedWasserstein,
  chiSquareHomogeneity,
  type GridBin,
  chiSquareTest,
  jensenShannonDistance,
  ksFromEcdf,
  proportionsZTest,
  psi,
  OTHER_LABEL,
} from '../domain/drift';
import { chooseTest, FEW_VALUES, judgeDataset, type DriftResult, type FeatureKind, type FeatureStatistics } from '../domain/driftPolicy';
import { MAX_SAFE_MAGNITUDE, type ColumnProfile, type DatasetProfile, type NumericSummary } from '../domain/profile';
import type { DriftPolicy } from '../schemas/monitoring';
import { numbersOf } from './columnar';
import { ident, literal, queryRows, withDuckDB, type EngineOptions } from './duckdb';

export interface DriftSide {
  /** Local path of the typed Parquet file. */
  table: string;
  /** Its profile (profileColumnar): rows, missing values, ranges, the reference's histograms. */
  profile: DatasetProfile;
}

export interface DriftFeature {
  name: string;
  kind: FeatureKind;
}

export interface DriftEngineOptions extends EngineOptions {
  /** About how many grid bins cover both samples' range for the Wasserstein estimate (WASSERSTEIN_BINS). */
  wassersteinBins?: number;
  /** Called after each query (for an activity's heartbeat). */
  onProgress?: (step: string) => void;
}

/** 2^16 bins: the Wasserstein error bound is about range / 65,536 before norming (README, "Drift"). */
export const WASSERSTEIN_BINS = 65_536;
/** Categories drawn in a report's histogram; the rest are one "(other)" bar. */
const HISTOGRAM_CATEGORIES = 20;
/** Unseen categories quoted in a finding. */
const UNSEEN_QUOTED = 5;

export class DriftInputError extends Error {
  override name = 'DriftInputError';
}

const num = (x: unknown) => (x === null || x === undefined ? Number.NaN : Number(x));

interface Column {
  feature: DriftFeature;
  ref: ColumnProfile;
  cur: ColumnProfile;
  /** SQL: the feature's usable value in a row of either side (NULL when missing, not a number, infinite or huge). */
  value: (side: 'ref' | 'cur') => string;
  present: { reference: number; current: number };
  rows: { reference: number; current: number };
}

/**
 * Compares `current` with `reference` on `features`, choosing each feature's test and judging drift as
 * Evidently's DataDriftPreset does (driftPolicy), with the thresholds of `policy`. Exact tests on the
 * values for small references; for large ones Jensen–Shannon from exact counts and normed Wasserstein
 * from counts on WASSERSTEIN_BINS fine bins (with its error bound in each feature's approximationError).
 */
export async function compareDatasets(reference: DriftSide, current: DriftSide, features: DriftFeature[], policy: DriftPolicy, options: DriftEngineOptions = {}): Promise<DriftResult> {
  const columns = features.map((f) => column(f, reference.profile, current.profile));
  const statistics = await withDuckDB(options, async (db) => {
    const from = { ref: `read_parquet(${literal(reference.table)})`, cur: `read_parquet(${literal(current.table)})` };
    const numeric = columns.filter((c) => c.feature.kind === 'numeric');
    const categorical = columns.filter((c) => c.feature.kind === 'categorical');
    const grids = new Map(numeric.map((c) => [c.feature.name, gridOf(c, options.wassersteinBins ?? WASSERSTEIN_BINS)]));
    const refBins = await gridCounts(db, from.ref, 'ref', numeric, grids);
    options.onProgress?.('reference numeric bins');
    const curBins = await gridCounts(db, from.cur, 'cur', numeric, grids);
    options.onProgress?.('current numeric bins');
    // Numeric features with at most 5 values are tested on their values' counts, as categories. Such a
    // feature fills at most 5 grid bins on both sides together: only those are counted value by value.
    const fewValued = numeric.filter((c) => gridBins(refBins.get(c.feature.name)!, curBins.get(c.feature.name)!).length <= FEW_VALUES);
    // A profile that kept every category (no otherCount) already holds its exact counts.
    const complete = (p: ColumnProfile) => p.categorical !== null && p.categorical.otherCount === 0;
    const fromProfile = (p: ColumnProfile) => new Map(p.categorical!.top.map((t) => [t.value, t.count]));
    const [known, counted] = [categorical.filter((c) => complete(c.ref) && complete(c.cur)), [...categorical.filter((c) => !(complete(c.ref) && complete(c.cur))), ...fewValued]];
    const refValues = await valueCounts(db, from.ref, 'ref', counted);
    options.onProgress?.('reference value counts');
    const curValues = await valueCounts(db, from.cur, 'cur', counted);
    options.onProgress?.('current value counts');
    for (const c of known) {
      refValues.set(c.feature.name, fromProfile(c.ref));
      curValues.set(c.feature.name, fromProfile(c.cur));
    }

    const out: FeatureStatistics[] = [];
    for (const c of columns) {
      const name = c.feature.name;
      const counts = refValues.has(name) ? union(refValues.get(name)!, curValues.get(name)!) : null;
      const distinct = counts ? counts.length : Infinity;
      const test = chooseTest(c.feature.kind, c.present.reference, distinct, policy);
      let score: { statistic: number; pValue: number | null; approximationError: number };
      if (test === 'ks') {
        const ks = ksFromEcdf(await ecdfSteps(db, from, c), c.present.reference, c.present.current);
        score = { statistic: ks.pValue, pValue: ks.pValue, approximationError: 0 };
      } else if (test === 'wasserstein') {
        const w = binnedNormedWasserstein(grids.get(name)!.width, gridBins(refBins.get(name)!, curBins.get(name)!), c.ref.numeric!.std);
        score = { statistic: w.distance, pValue: null, approximationError: w.errorBound };
      } else {
        const [r, k] = [counts!.map((x) => x.reference), counts!.map((x) => x.current)];
        const chiSquare = policy.chiSquare === 'two-sample' ? chiSquareHomogeneity : chiSquareTest;
        const p = test === 'chi-square' ? chiSquare(r, k).pValue : test === 'z' ? proportionsZTest(counts!).pValue : null;
        score = { statistic: p ?? jensenShannonDistance(r, k), pValue: p, approximationError: 0 };
      }
      out.push({ feature: name, kind: c.feature.kind, test, ...score, ...shape(c, counts, grids.get(name), curBins.get(name)) });
    }
    return out;
  });
  return judgeDataset({ reference: reference.profile.rows, current: current.profile.rows }, statistics, policy);
}

function column(feature: DriftFeature, reference: DatasetProfile, current: DatasetProfile): Column {
  const find = (p: DatasetProfile, side: string) => {
    const c = p.columns.find((x) => x.name === feature.name);
    if (!c) throw new DriftInputError(`feature "${feature.name}": no such column in the ${side} dataset`);
    return c;
  };
  const [ref, cur] = [find(reference, 'reference'), find(current, 'current')];
  const present = (c: ColumnProfile, rows: number) => (feature.kind === 'numeric' ? (c.numeric?.count ?? 0) : rows - c.missing);
  const counts = { reference: present(ref, reference.rows), current: present(cur, current.rows) };
  for (const [side, n] of Object.entries(counts)) {
    if (n === 0) throw new DriftInputError(`feature "${feature.name}": the ${side} dataset has no ${feature.kind === 'numeric' ? 'numbers' : 'values'} in it`);
  }
  const value = (side: 'ref' | 'cur') => {
    const c = side === 'ref' ? ref : cur;
    if (feature.kind === 'categorical') return c.storedAs === 'text' ? ident(feature.name) : `CAST(${ident(feature.name)} AS VARCHAR)`;
    const x = numbersOf(feature.name, c.storedAs);
    // The profile's rule: infinite and huge values are not values (Evidently drops infinite ones too).
    return `CASE WHEN abs(${x}) <= ${MAX_SAFE_MAGNITUDE} THEN ${x} END`;
  };
  return { feature, ref, cur, value, present: counts, rows: { reference: reference.rows, current: current.rows } };
}

/** Both samples' range, from the profiles. */
function rangeOf(c: Column): [number, number] {
  return [Math.min(c.ref.numeric!.min, c.cur.numeric!.min), Math.max(c.ref.numeric!.max, c.cur.numeric!.max)];
}

/**
 * A numeric feature's fine grid: bin i covers [origin + i·width, origin + (i + 1)·width). It splits each
 * bin of the reference profile's histogram in `split`, so that the same counts give the Wasserstein
 * estimate, the current values on the reference histogram's bins (PSI, report) and the values outside the
 * reference's range (bins below 0 or from `inRange` up). About `bins` bins cover both samples' range.
 */
interface Grid {
  origin: number;
  width: number;
  split: number;
  inRange: number;
}

function gridOf(c: Column, bins: number): Grid {
  const r = c.ref.numeric!;
  const [lo, hi] = rangeOf(c);
  const referenceBins = r.histogram.counts.length;
  if (r.max > r.min) {
    const split = Math.max(1, Math.floor(bins / referenceBins / Math.max(1, (hi - lo) / (r.max - r.min))));
    return { origin: r.min, width: (r.max - r.min) / (referenceBins * split), split, inRange: referenceBins * split };
  }
  // A constant reference: one bin for its value, the rest of the range in steps of a bins-th of it.
  return { origin: r.min, width: hi > lo ? (hi - lo) / bins : 1, split: 1, inRange: 1 };
}

/**
 * SQL: the grid bin of `x` (NULL for a missing value). A value in the reference's range stays in the
 * bins that cover it, a value outside it lands outside them, whatever the rounding at the ends. A DOUBLE:
 * far-out values may have indexes beyond any integer type.
 */
function gridBin(x: string, g: Grid, r: NumericSummary): string {
  const raw = `floor((${x} - ${g.origin}) / ${g.width})`;
  return `CASE WHEN ${x} IS NULL THEN NULL WHEN ${x} < ${r.min} THEN least(-1, ${raw}) WHEN ${x} > ${r.max} THEN greatest(${g.inRange}, ${raw}) ELSE least(${g.inRange - 1}, greatest(0, ${raw})) END`;
}

/**
 * Each numeric feature's non-empty grid bins on one side, a GROUP BY per feature (each reads only its
 * column of the Parquet file): several times faster here than one GROUP BY of (feature, bin) pairs
 * from an UNPIVOT. A feature's bins come back as two lists: a row per bin would cost more to convert.
 */
async function gridCounts(db: DuckDBConnection, from: string, side: 'ref' | 'cur', columns: Column[], grids: Map<string, Grid>): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const c of columns) {
    const bin = gridBin('x', grids.get(c.feature.name)!, c.ref.numeric!);
    out.set(c.feature.name, await listCounts(db, `SELECT ${bin} AS key, count(*) AS n FROM (SELECT ${c.value(side)} AS x FROM ${from}) WHERE x IS NOT NULL GROUP BY key`, num));
  }
  return out;
}

/** A `SELECT key, n … GROUP BY key` query's rows as a map, fetched as two lists. */
async function listCounts<K>(db: DuckDBConnection, grouped: string, key: (k: unknown) => K): Promise<Map<K, number>> {
  const [row] = await queryRows(db, `SELECT list(key) AS keys, list(n) AS counts FROM (${grouped})`);
  const [keys, counts] = [(row.keys as unknown[] | null) ?? [], (row.counts as unknown[] | null) ?? []];
  return new Map(keys.map((k, i) => [key(k), num(counts[i])]));
}

/** Both sides' non-empty grid bins. */
function gridBins(reference: Map<number, number>, current: Map<number, number>): GridBin[] {
  return [...new Set([...reference.keys(), ...current.keys()])].map((index) => ({ index, reference: reference.get(index) ?? 0, current: current.get(index) ?? 0 }));
}

/**
 * Every distinct present value of each feature with its count on one side, as text (a double's text
 * round-trips exactly). Numbers are grouped first and only the distinct ones written as text.
 */
async function valueCounts(db: DuckDBConnection, from: string, side: 'ref' | 'cur', columns: Column[]): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  for (const c of columns) {
    const grouped = `SELECT x, count(*) AS n FROM (SELECT ${c.value(side)} AS x FROM ${from}) WHERE x IS NOT NULL GROUP BY x`;
    out.set(c.feature.name, await listCounts(db, `SELECT CAST(x AS VARCHAR) AS key, n FROM (${grouped})`, String));
  }
  return out;
}

interface ValueCount {
  value: string;
  reference: number;
  current: number;
}

/** The values of both sides with their counts, the reference's most frequent first. */
function union(reference: Map<string, number>, current: Map<string, number>): ValueCount[] {
  const values = new Set([...reference.keys(), ...current.keys()]);
  return [...values]
    .map((value) => ({ value, reference: reference.get(value) ?? 0, current: current.get(value) ?? 0 }))
    .sort((a, b) => b.reference - a.reference || b.current - a.current || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/**
 * The two empirical CDFs at the reference's distinct values (a small reference): each current value is
 * matched to the largest reference value at or below it (ASOF join), so the current sample is only
 * counted, never held.
 */
async function ecdfSteps(db: DuckDBConnection, from: { ref: string; cur: string }, c: Column) {
  const rows = await queryRows(
    db,
    `WITH r AS (SELECT x, count(*) AS n FROM (SELECT ${c.value('ref')} AS x FROM ${from.ref}) WHERE x IS NOT NULL GROUP BY x),
          k AS (SELECT x FROM (SELECT ${c.value('cur')} AS x FROM ${from.cur}) WHERE x IS NOT NULL),
          m AS (SELECT r.x AS v, count(*) FILTER (WHERE k.x = r.x) AS eq, count(*) FILTER (WHERE r.x IS NULL OR k.x > r.x) AS after
                FROM k ASOF LEFT JOIN r ON k.x >= r.x GROUP BY r.x)
     SELECT r.x AS v, r.n, coalesce(m.eq, 0) AS eq, coalesce(m.after, 0) AS after FROM r LEFT JOIN m ON m.v = r.x
     UNION ALL SELECT NULL, 0, 0, after FROM m WHERE v IS NULL
     ORDER BY v NULLS FIRST`,
  );
  let [below, referenceAtOrBelow] = [0, 0];
  const steps: { referenceAtOrBelow: number; currentBelow: number; currentAtOrBelow: number }[] = [];
  for (const r of rows) {
    if (r.v === null) {
      below += num(r.after);
      continue;
    }
    referenceAtOrBelow += num(r.n);
    steps.push({ referenceAtOrBelow, currentBelow: below, currentAtOrBelow: below + num(r.eq) });
    below += num(r.eq) + num(r.after);
  }
  return steps;
}

/** PSI, data quality and the report's histogram of one feature. */
function shape(c: Column, counts: ValueCount[] | null, grid: Grid | undefined, currentBins: Map<number, number> | undefined): Pick<FeatureStatistics, 'psi' | 'quality' | 'histogram'> {
  const missingShare = { reference: 1 - c.present.reference / c.rows.reference, current: 1 - c.present.current / c.rows.current };
  if (c.feature.kind === 'numeric') {
    // The current values on the reference histogram's bins (outside values in its outer bins, as binOf).
    const h = c.ref.numeric!.histogram;
    const current = new Array<number>(h.counts.length).fill(0);
    let outside = 0;
    for (const [index, n] of currentBins!) {
      current[Math.min(h.counts.length - 1, Math.max(0, Math.floor(index / grid!.split)))] += n;
      if (index < 0 || index >= grid!.inRange) outside += n;
    }
    return {
      psi: psi(h.counts, current),
      quality: { missingShare, outOfDomainShare: outside / c.present.current, unseenCategoryShare: null, unseenCategories: [] },
      histogram: { bins: [...h.edges], reference: [...h.counts], current },
    };
  }
  const all = counts!;
  const unseen = all.filter((v) => v.reference === 0 && v.current > 0).sort((a, b) => b.current - a.current);
  const shown = all.slice(0, HISTOGRAM_CATEGORIES);
  const rest = all.slice(HISTOGRAM_CATEGORIES);
  const sum = (xs: ValueCount[], side: 'reference' | 'current') => xs.reduce((s, x) => s + x[side], 0);
  return {
    psi: psi(
      all.map((v) => v.reference),
      all.map((v) => v.current),
    ),
    quality: {
      missingShare,
      outOfDomainShare: null,
      unseenCategoryShare: sum(unseen, 'current') / c.present.current,
      unseenCategories: unseen.slice(0, UNSEEN_QUOTED).map((v) => v.value),
    },
    histogram: {
      bins: [...shown.map((v) => v.value), ...(rest.length > 0 ? [OTHER_LABEL] : [])],
      reference: [...shown.map((v) => v.reference), ...(rest.length > 0 ? [sum(rest, 'reference')] : [])],
      current: [...shown.map((v) => v.current), ...(rest.length > 0 ? [sum(rest, 'current')] : [])],
    },
  };
}
