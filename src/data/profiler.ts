// Profiles the typed columnar form of a dataset with DuckDB: a few column scans, whatever the row count.
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  EXAMPLE_ROWS,
  histogramEdges,
  MAX_SAFE_MAGNITUDE,
  QUANTILE_PROBABILITIES,
  TOP_CATEGORIES,
  type ColumnProfile,
  type DatasetProfile,
  type Histogram,
} from '../domain/profile';
import { asNumber, numbersOf, type ColumnarDataset } from './columnar';
import { ident, literal, queryRows } from './duckdb';

/** Quantiles are read off a uniform sample of this many rows: rank error under 0.2%, twice as fast as t-digest here. */
const QUANTILE_SAMPLE = 65_536;
const num = (x: unknown) => (x === null || x === undefined ? Number.NaN : Number(x));

/** SQL: `x`'s position on equal-width `edges` (max > min) before clamping: bin k of a value between the edges is k. */
function binPosition(x: string, edges: number[]): string {
  const bins = edges.length - 1;
  return `floor((${x} - ${edges[0]}) / ${(edges[bins] - edges[0]) / bins})`;
}

/** SQL: the bin of `x` on `edges` (values outside go to the first or last bin), NULL for missing or non-finite values. */
export function binOf(x: string, edges: number[]): string {
  const bins = edges.length - 1;
  if (!(edges[bins] > edges[0])) return `CASE WHEN ${x} IS NULL OR NOT isfinite(${x}) THEN NULL ELSE 0 END`;
  return `CASE WHEN ${x} IS NULL OR NOT isfinite(${x}) THEN NULL ELSE least(${bins - 1}, greatest(0, ${binPosition(x, edges)}))::INTEGER END`;
}

/** Counts per bin from DuckDB's histogram() map. */
export function binCounts(map: unknown, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  if (map && typeof map === 'object') {
    const entries = Array.isArray(map) ? (map as { key: unknown; value: unknown }[]).map((e) => [e.key, e.value]) : Object.entries(map);
    for (const [bin, count] of entries) counts[Number(bin)] = Number(count);
  }
  return counts;
}

/** Columns per aggregate query: hundreds of columns in one query exhaust DuckDB's memory cap on wide files. */
const COLUMNS_PER_QUERY = 64;

function batches<T>(items: T[], size = COLUMNS_PER_QUERY): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** Profiles the Parquet file `table` (as written by buildColumnar). */
export async function profileColumnar(db: DuckDBConnection, table: string, dataset: ColumnarDataset): Promise<DatasetProfile> {
  const from = `read_parquet(${literal(table)})`;
  const cols = dataset.columns;
  // Each column's numbers: the column itself, or its text read as a number where it holds any (pass 1 of
  // buildColumnar counted them). Values beyond ±MAX_SAFE_MAGNITUDE and non-finite ones ("1e999") count only as huge.
  const safe = (x: string) => `CASE WHEN abs(${x}) <= ${MAX_SAFE_MAGNITUDE} THEN ${x} END`;
  const indexes = cols.map((_, i) => i);

  const row: Record<string, unknown> = {};
  for (const batch of batches(indexes)) {
    const projection = batch.flatMap((i) => [`${ident(cols[i].name)} AS r${i}`, ...(cols[i].hasNumbers ? [`${numbersOf(cols[i].name, cols[i].storedAs)} AS x${i}`] : [])]);
    const stats = batch.flatMap((i) => [
      `count(r${i}) AS present${i}`,
      ...(cols[i].hasNumbers ? [`count(x${i}) AS parsed${i}`, `min(x${i}) AS min${i}`, `max(x${i}) AS max${i}`, `avg(x${i}) AS mean${i}`] : []),
    ]);
    Object.assign(row, (await queryRows(db, `SELECT count(*) AS rows, ${stats.join(', ')} FROM (SELECT ${projection.join(', ')} FROM ${from})`))[0]);
  }
  // A column's extremes tell whether it holds huge values (DuckDB orders NaN above +inf, so max is NaN
  // when any value is). Only those that do are summarised again without them: in a column with none, the
  // statistics of all its numbers are the same, and leaving huge values out costs as much as computing them.
  const withHuge = new Set(indexes.filter((i) => cols[i].hasNumbers && num(row[`parsed${i}`]) > 0 && !(Math.abs(num(row[`min${i}`])) <= MAX_SAFE_MAGNITUDE && Math.abs(num(row[`max${i}`])) <= MAX_SAFE_MAGNITUDE)));
  for (const i of indexes) if (cols[i].hasNumbers && !withHuge.has(i)) Object.assign(row, { [`count${i}`]: row[`parsed${i}`], [`huge${i}`]: 0 });
  for (const batch of batches([...withHuge])) {
    const projection = batch.map((i) => `${numbersOf(cols[i].name, cols[i].storedAs)} AS x${i}`);
    const stats = batch.flatMap((i) => [
      `count(${safe(`x${i}`)}) AS count${i}`,
      `count(x${i}) FILTER (WHERE NOT isfinite(x${i}) OR abs(x${i}) > ${MAX_SAFE_MAGNITUDE}) AS huge${i}`,
      `min(${safe(`x${i}`)}) AS min${i}`,
      `max(${safe(`x${i}`)}) AS max${i}`,
      `avg(${safe(`x${i}`)}) AS mean${i}`,
    ]);
    Object.assign(row, (await queryRows(db, `SELECT ${stats.join(', ')} FROM (SELECT ${projection.join(', ')} FROM ${from})`))[0]);
  }
  const rows = num(row.rows);
  const count = (i: number) => (cols[i].hasNumbers ? num(row[`count${i}`]) : 0);
  const numbers = (i: number) => (withHuge.has(i) ? safe(numbersOf(cols[i].name, cols[i].storedAs)) : numbersOf(cols[i].name, cols[i].storedAs));

  // Histograms on equal-width bins between each column's min and max, and m2 about the mean (two passes:
  // more accurate than var_pop's running update, and cheaper here): a GROUP BY per column of the bins'
  // unclamped positions (it reads only that column), clamped here as binOf does; several times faster
  // than DuckDB's histogram() of binOf. A constant column's one bin holds all its numbers, m2 = 0.
  const numeric = indexes.filter((i) => count(i) > 0);
  const histograms = new Map<number, Histogram>();
  const m2 = new Map<number, number>();
  for (const i of numeric) {
    const edges = histogramEdges(num(row[`min${i}`]), num(row[`max${i}`]));
    const bins = edges.length - 1;
    const counts = new Array<number>(bins).fill(0);
    if (!(edges[bins] > edges[0])) {
      counts[0] = count(i);
      m2.set(i, 0);
    } else {
      const deviation = `(x - ${num(row[`mean${i}`])})`;
      const [h] = await queryRows(
        db,
        `SELECT list(k) AS keys, list(n) AS counts, fsum(m2) AS m2 FROM (SELECT ${binPosition('x', edges)} AS k, count(*) AS n, fsum(${deviation} * ${deviation}) AS m2 FROM (SELECT ${numbers(i)} AS x FROM ${from}) WHERE x IS NOT NULL GROUP BY k)`,
      );
      const [keys, ns] = [(h.keys as unknown[] | null) ?? [], (h.counts as unknown[] | null) ?? []];
      keys.forEach((k, j) => (counts[Math.min(bins - 1, Math.max(0, num(k)))] += num(ns[j])));
      m2.set(i, num(h.m2));
    }
    histograms.set(i, { edges, counts });
  }
  // Quantiles from a uniform sample of rows (a sample of the first rows would be wrong for files sorted by date or id).
  const quantiles = new Map<number, number[]>();
  for (const batch of batches(numeric)) {
    const projection = batch.map((i) => `${safe(numbersOf(cols[i].name, cols[i].storedAs))} AS x${i}`).join(', ');
    const [q] = await queryRows(
      db,
      `SELECT ${batch.map((i) => `quantile_cont(x${i}, [${QUANTILE_PROBABILITIES.join(', ')}]) AS q${i}`).join(', ')} FROM (SELECT ${projection} FROM ${from} USING SAMPLE reservoir(${QUANTILE_SAMPLE} ROWS) REPEATABLE (42))`,
    );
    for (const i of batch) quantiles.set(i, ((q[`q${i}`] as unknown[] | null) ?? []).map(num));
  }

  const columns: ColumnProfile[] = [];
  for (const [i, c] of cols.entries()) {
    const present = num(row[`present${i}`]);
    const missing = rows - present;
    const parsed = c.hasNumbers ? num(row[`parsed${i}`]) : 0;
    const huge = c.hasNumbers ? num(row[`huge${i}`]) : 0;
    const nonNumeric = c.storedAs === 'numeric' ? 0 : present - parsed;
    const profile: ColumnProfile = {
      name: c.name,
      storedAs: c.storedAs,
      missing,
      nonNumeric,
      // A column of nothing but huge values still has a numeric summary, so that validation sees them.
      numeric:
        count(i) > 0
          ? {
              count: count(i),
              min: num(row[`min${i}`]),
              max: num(row[`max${i}`]),
              mean: num(row[`mean${i}`]),
              m2: m2.get(i)!,
              std: Math.sqrt(m2.get(i)! / count(i)),
              quantiles: quantiles.get(i) ?? [],
              histogram: histograms.get(i)!,
              huge,
            }
          : huge > 0
            ? { count: 0, min: 0, max: 0, mean: 0, m2: 0, std: 0, quantiles: [], histogram: { edges: [], counts: [] }, huge }
            : null,
      categorical: null,
      examples: { missingRows: [], nonNumeric: [] },
    };
    if (c.storedAs === 'text') {
      const top = await queryRows(
        db,
        `SELECT ${ident(c.name)} AS value, count(*) AS count FROM ${from} WHERE ${ident(c.name)} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${TOP_CATEGORIES}`,
      );
      const inTop = top.reduce((sum, t) => sum + num(t.count), 0);
      // A HyperLogLog estimate depends only on the set of values: when the top values are all of them, it
      // is taken over their few distinct values, a tenth of the cost of taking it over every row.
      const values = `(SELECT ${inTop === present ? 'DISTINCT ' : ''}${ident(c.name)} AS v FROM ${from})`;
      const [estimate] = await queryRows(db, `SELECT approx_count_distinct(v) AS distinct FROM ${values}`);
      profile.categorical = {
        distinct: Math.max(top.length, num(estimate.distinct)),
        top: top.map((t) => ({ value: String(t.value), count: num(t.count) })),
        otherCount: present - inTop,
      };
    }
    // Rows are numbered from 1 for the first data row; the file's order is kept in the columnar form.
    const numbered = `(SELECT file_row_number + 1 AS row, ${ident(c.name)} AS v FROM read_parquet(${literal(table)}, file_row_number = true))`;
    if (missing > 0) {
      const found = await queryRows(db, `SELECT row FROM ${numbered} WHERE v IS NULL LIMIT ${EXAMPLE_ROWS}`);
      profile.examples.missingRows = found.map((f) => num(f.row));
    }
    if (nonNumeric > 0) {
      const found = await queryRows(db, `SELECT row, v FROM ${numbered} WHERE v IS NOT NULL AND ${asNumber('v')} IS NULL LIMIT ${EXAMPLE_ROWS}`);
      profile.examples.nonNumeric = found.map((f) => ({ row: num(f.row), value: String(f.v) }));
    }
    columns.push(profile);
  }
  return { version: 1, rows, columns };
}
