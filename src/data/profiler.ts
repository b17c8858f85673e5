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
import { asNumber, type ColumnarDataset } from './columnar';
import { ident, literal, queryRows } from './duckdb';

/** Quantiles are read off a uniform sample this large: rank error about 0.2% at worst, four times faster than t-digest here. */
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

/** Profiles the Parquet file `table` (as written by buildColumnar). */
export async function profileColumnar(db: DuckDBConnection, table: string, dataset: ColumnarDataset): Promise<DatasetProfile> {
  const from = `read_parquet(${literal(table)})`;
  const cols = dataset.columns;
  // Each column's numbers, computed once per row: the column itself, or its text read as a number where it
  // holds any (pass 1 of buildColumnar counted them). Values beyond ±MAX_SAFE_MAGNITUDE and non-finite ones ("1e999") count only as huge.
  const hasNumbers = cols.map((c) => c.hasNumbers);
  const projection = cols.flatMap((c, i) => {
    if (!hasNumbers[i]) return [`${ident(c.name)} AS r${i}`];
    const x = c.storedAs === 'numeric' ? ident(c.name) : asNumber(ident(c.name));
    return [`${ident(c.name)} AS r${i}`, `${x} AS x${i}`];
  });
  const numbers = `(SELECT ${projection.join(', ')} FROM ${from})`;
  const finite = (i: number) => `CASE WHEN abs(x${i}) <= ${MAX_SAFE_MAGNITUDE} THEN x${i} END`;
  const stats = cols.flatMap((c, i) => [
    `count(r${i}) AS present${i}`,
    ...(c.storedAs === 'text' ? [`approx_count_distinct(r${i}) AS distinct${i}`] : []),
    ...(hasNumbers[i]
      ? [
          `count(${finite(i)}) AS count${i}`,
          `count(x${i}) AS parsed${i}`,
          `count(x${i}) FILTER (WHERE NOT isfinite(x${i}) OR abs(x${i}) > ${MAX_SAFE_MAGNITUDE}) AS huge${i}`,
          `min(${finite(i)}) AS min${i}`,
          `max(${finite(i)}) AS max${i}`,
          `avg(${finite(i)}) AS mean${i}`,
          `var_pop(${finite(i)}) AS var${i}`,
          `reservoir_quantile(${finite(i)}, [${QUANTILE_PROBABILITIES.join(', ')}], ${QUANTILE_SAMPLE}) AS q${i}`,
        ]
      : [`0 AS count${i}`, `0 AS parsed${i}`, `0 AS huge${i}`]),
  ]);
  const [row] = await queryRows(db, `SELECT count(*) AS rows, ${stats.join(', ')} FROM ${numbers}`);
  const rows = num(row.rows);

  const edges = cols.map((_, i) => (num(row[`count${i}`]) > 0 ? histogramEdges(num(row[`min${i}`]), num(row[`max${i}`])) : null));
  const withNumbers = cols.map((_, i) => i).filter((i) => edges[i]);
  const histograms = new Map<number, Histogram>();
  if (withNumbers.length > 0) {
    const [h] = await queryRows(db, `SELECT ${withNumbers.map((i) => `histogram(${binOf(finite(i), edges[i]!)}) AS h${i}`).join(', ')} FROM ${numbers}`);
    for (const i of withNumbers) histograms.set(i, { edges: edges[i]!, counts: binCounts(h[`h${i}`], edges[i]!.length - 1) });
  }

  const columns: ColumnProfile[] = [];
  for (const [i, c] of cols.entries()) {
    const present = num(row[`present${i}`]);
    const count = num(row[`count${i}`]);
    const missing = rows - present;
    const nonNumeric = c.storedAs === 'numeric' ? 0 : present - num(row[`parsed${i}`]);
    const mean = num(row[`mean${i}`]);
    const variance = num(row[`var${i}`]);
    const profile: ColumnProfile = {
      name: c.name,
      storedAs: c.storedAs,
      missing,
      nonNumeric,
      numeric:
        count > 0
          ? {
              count,
              min: num(row[`min${i}`]),
              max: num(row[`max${i}`]),
              mean,
              m2: variance * count,
              std: Math.sqrt(variance),
              quantiles: (row[`q${i}`] as unknown[]).map(num),
              histogram: histograms.get(i)!,
              huge: num(row[`huge${i}`]),
            }
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
