// Drift between two datasets in their typed columnar form (Parquet written by buildColumnar), computed by
// DuckDB: a few column scans per side whatever the row count, on DuckDB's own threads under its memory cap,
// so an activity's event loop keeps heartbeating. The tests and verdicts are the domain's (driftPolicy).
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  binnedNormedWasserstein,
  chiSquareTest,
  jensenShannonDistance,
  ksFromEcdf,
  proportionsZTest,
  psi,
  OTHER_LABEL,
} from '../domain/drift';
import { chooseTest, FEW_VALUES, judgeDataset, type DriftResult, type FeatureKind, type FeatureStatistics } from '../domain/driftPolicy';
import { histogramEdges, MAX_SAFE_MAGNITUDE, type ColumnProfile, type DatasetProfile } from '../domain/profile';
import type { DriftPolicy } from '../schemas/monitoring';
import { numbersOf } from './columnar';
import { ident, literal, queryRows, withDuckDB, type EngineOptions } from './duckdb';
import { binCounts, binOf } from './profiler';

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
  /** Equal-width bins over both samples' range for the Wasserstein estimate of large samples. */
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
/** Numeric features whose approximate distinct count (HyperLogLog) is at most this are counted exactly, to tell ≤ 5 values apart. */
const FEW_VALUES_CANDIDATE = 4 * FEW_VALUES;

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
    const [refNumbers, curNumbers] = [await numericPass(db, from.ref, 'ref', numeric, options), await numericPass(db, from.cur, 'cur', numeric, options)];
    options.onProgress?.('numeric scans');
    const [refCategories, curCategories] = [await valueCounts(db, from.ref, 'ref', categorical), await valueCounts(db, from.cur, 'cur', categorical)];
    // Numeric features with few values are tested on their values' counts, as categories.
    const fewValued = numeric.filter((c) => Math.max(refNumbers.distinct[c.feature.name], curNumbers.distinct[c.feature.name]) <= FEW_VALUES_CANDIDATE);
    const [refFew, curFew] = [await valueCounts(db, from.ref, 'ref', fewValued), await valueCounts(db, from.cur, 'cur', fewValued)];
    options.onProgress?.('value counts');

    const out: FeatureStatistics[] = [];
    for (const c of columns) {
      const name = c.feature.name;
      const counts = c.feature.kind === 'categorical' ? union(refCategories.get(name)!, curCategories.get(name)!) : refFew.has(name) ? union(refFew.get(name)!, curFew.get(name)!) : null;
      const distinct = counts ? counts.length : Infinity;
      const test = chooseTest(c.feature.kind, c.present.reference, distinct, policy);
      let score: { statistic: number; pValue: number | null; approximationError: number };
      if (test === 'ks') {
        const ks = ksFromEcdf(await ecdfSteps(db, from, c), c.present.reference, c.present.current);
        score = { statistic: ks.pValue, pValue: ks.pValue, approximationError: 0 };
      } else if (test === 'wasserstein') {
        const [lo, hi] = rangeOf(c);
        const w = binnedNormedWasserstein(lo, hi, refNumbers.fine.get(name)!, curNumbers.fine.get(name)!, c.ref.numeric!.std);
        score = { statistic: w.distance, pValue: null, approximationError: w.errorBound };
      } else {
        const [r, k] = [counts!.map((x) => x.reference), counts!.map((x) => x.current)];
        const p = test === 'chi-square' ? chiSquareTest(r, k).pValue : test === 'z' ? proportionsZTest(counts!).pValue : null;
        score = { statistic: p ?? jensenShannonDistance(r, k), pValue: p, approximationError: 0 };
      }
      out.push({ feature: name, kind: c.feature.kind, test, ...score, ...shape(c, counts, curNumbers) });
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

interface NumericPass {
  /** HyperLogLog distinct counts. */
  distinct: Record<string, number>;
  /** Counts on WASSERSTEIN_BINS bins over both samples' range. */
  fine: Map<string, number[]>;
  /** Current side only: counts on the reference histogram's edges, and values outside the reference's range. */
  onReferenceEdges: Map<string, number[]>;
  outOfDomain: Map<string, number>;
}

/** One scan of a side's numeric features: distinct counts and out-of-range values, then their fine bins. */
async function numericPass(db: DuckDBConnection, from: string, side: 'ref' | 'cur', columns: Column[], options: DriftEngineOptions): Promise<NumericPass> {
  const result: NumericPass = { distinct: {}, fine: new Map(), onReferenceEdges: new Map(), outOfDomain: new Map() };
  if (columns.length === 0) return result;
  const bins = options.wassersteinBins ?? WASSERSTEIN_BINS;
  const projection = columns.map((c, i) => `${c.value(side)} AS x${i}`).join(', ');
  const stats = columns.flatMap((c, i) => [
    `approx_count_distinct(x${i}) AS d${i}`,
    ...(side === 'cur'
      ? [`count(x${i}) FILTER (WHERE x${i} < ${c.ref.numeric!.min} OR x${i} > ${c.ref.numeric!.max}) AS o${i}`, `histogram(${binOf(`x${i}`, c.ref.numeric!.histogram.edges)}) AS h${i}`]
      : []),
  ]);
  const [row] = await queryRows(db, `SELECT ${stats.join(', ')} FROM (SELECT ${projection} FROM ${from})`);
  for (const [i, c] of columns.entries()) {
    result.distinct[c.feature.name] = num(row[`d${i}`]);
    if (side === 'cur') {
      result.outOfDomain.set(c.feature.name, num(row[`o${i}`]));
      result.onReferenceEdges.set(c.feature.name, binCounts(row[`h${i}`], c.ref.numeric!.histogram.edges.length - 1));
    }
  }
  // Fine bins, one (feature, bin) group each: UNPIVOT leaves out the NULLs (missing values).
  const fineProjection = columns.map((c, i) => `${binOf(`x${i}`, histogramEdges(...rangeOf(c), bins))} AS f${i}`).join(', ');
  const grouped = await queryRows(db, `SELECT name, bin, count(*) AS n FROM (UNPIVOT (SELECT ${fineProjection} FROM (SELECT ${projection} FROM ${from})) ON COLUMNS(*) INTO NAME name VALUE bin) GROUP BY ALL`);
  for (const c of columns) result.fine.set(c.feature.name, new Array<number>(bins).fill(0));
  for (const g of grouped) result.fine.get(columns[Number(String(g.name).slice(1))].feature.name)![num(g.bin)] = num(g.n);
  return result;
}

/** Every distinct present value of each feature with its count, in one scan of the side. */
async function valueCounts(db: DuckDBConnection, from: string, side: 'ref' | 'cur', columns: Column[]): Promise<Map<string, Map<string, number>>> {
  const out = new Map(columns.map((c) => [c.feature.name, new Map<string, number>()]));
  if (columns.length === 0) return out;
  // As text, so that numbers and categories share one UNPIVOT; a double's text round-trips exactly.
  const projection = columns.map((c, i) => `CAST(${c.value(side)} AS VARCHAR) AS v${i}`).join(', ');
  const rows = await queryRows(db, `SELECT name, value, count(*) AS n FROM (UNPIVOT (SELECT ${projection} FROM ${from}) ON COLUMNS(*) INTO NAME name VALUE value) GROUP BY ALL`);
  for (const r of rows) out.get(columns[Number(String(r.name).slice(1))].feature.name)!.set(String(r.value), num(r.n));
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
function shape(c: Column, counts: ValueCount[] | null, curNumbers: NumericPass): Pick<FeatureStatistics, 'psi' | 'quality' | 'histogram'> {
  const missingShare = { reference: 1 - c.present.reference / c.rows.reference, current: 1 - c.present.current / c.rows.current };
  if (c.feature.kind === 'numeric') {
    const h = c.ref.numeric!.histogram;
    const current = curNumbers.onReferenceEdges.get(c.feature.name)!;
    return {
      psi: psi(h.counts, current),
      quality: { missingShare, outOfDomainShare: curNumbers.outOfDomain.get(c.feature.name)! / c.present.current, unseenCategoryShare: null, unseenCategories: [] },
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
