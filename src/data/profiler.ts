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

/** SQL: the bin of `x` on `edges` (values outside go to the first or last bin), NULL for missing or non-finite values. */
export function binOf(x: string, edges: number[]): string {
  const bins = edges.length - 1;
  const [min, max] = [edges[0], edges[bins]];
  if (!(max > min)) return `CASE WHEN ${x} IS NULL OR NOT isfinite(${x}) THEN NULL ELSE 0 END`;
  return `CASE WHEN ${x} IS NULL OR NOT isfinite(${x}) THEN NULL ELSE least(${bins - 1}, greatest(0, floor((${x} - ${min}) / ${(max - min) / bins})))::INTEGER END`;
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
      ...(cols[i].storedAs === 'text' ? [`approx_count_distinct(r${i}) AS distinct${i}`] : []),
      ...(cols[i].hasNumbers
        ? [
            `count(${safe(`x${i}`)}) AS count${i}`,
            `count(x${i}) AS parsed${i}`,
            `count(x${i}) FILTER (WHERE NOT isfinite(x${i}) OR abs(x${i}) > ${MAX_SAFE_MAGNITUDE}) AS huge${i}`,
            `min(${safe(`x${i}`)}) AS min${i}`,
            `max(${safe(`x${i}`)}) AS max${i}`,
            `avg(${safe(`x${i}`)}) AS mean${i}`,
            `var_pop(${safe(`x${i}`)}) AS var${i}`,
          ]
        : []),
    ]);
    Object.assign(row, (await queryRows(db, `SELECT count(*) AS rows, ${stats.join(', ')} FROM (SELECT ${projection.join(', ')} FROM ${from})`))[0]);
  }
  const rows = num(row.rows);
  const count = (i: number) => (cols[i].hasNumbers ? num(row[`count${i}`]) : 0);

  // Histograms on equal-width bins between each column's min and max, and quantiles from a uniform sample
  // of rows (a sample of the first rows would be wrong for files sorted by date or id).
  const numeric = indexes.filter((i) => count(i) > 0);
  const edges = new Map(numeric.map((i) => [i, histogramEdges(num(row[`min${i}`]), num(row[`max${i}`]))]));
  const histograms = new Map<number, Histogram>();
  const quantiles = new Map<number, number[]>();
  for (const batch of batches(numeric)) {
    const projection = batch.map((i) => `${safe(numbersOf(cols[i].name, cols[i].storedAs))} AS x${i}`).join(', ');
    const [h] = await queryRows(db, `SELECT ${batch.map((i) => `histogram(${binOf(`x${i}`, edges.get(i)!)}) AS h${i}`).join(', ')} FROM (SELECT ${projection} FROM ${from})`);
    for (const i of batch) histograms.set(i, { edges: edges.get(i)!, counts: binCounts(h[`h${i}`], edges.get(i)!.length - 1) });
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
    const variance = num(row[`var${i}`]);
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
              m2: variance * count(i),
              std: Math.sqrt(variance),
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
      profile.categorical = {
        distinct: Math.max(top.length, num(row[`distinct${i}`])),
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
