// Counts on a dataset's typed Parquet form that validation needs beyond its profile: values outside the
// model's schema, and the distribution of each feature on the reference's bins (for skew).
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnProfile } from '../domain/profile';
import type { ColumnSchema } from '../domain/schema';
import type { SkewColumn } from '../domain/skew';
import type { SchemaChecks } from '../domain/validation';
import { numbersOf } from './columnar';
import { ident, literal, literalList, queryRows } from './duckdb';
import { binCounts, binOf } from './profiler';

const EXAMPLES = 5;


/** Values outside each schema column's range and categories outside its domain, with a few examples. */
export async function schemaViolations(db: DuckDBConnection, table: string, columns: { schema: ColumnSchema; storedAs: ColumnProfile['storedAs'] }[]): Promise<SchemaChecks> {
  const from = `read_parquet(${literal(table)})`;
  const checks: SchemaChecks = { outOfRange: {}, unseen: {} };
  for (const { schema, storedAs } of columns) {
    if (schema.type === 'numeric' && (schema.min !== undefined || schema.max !== undefined)) {
      const x = numbersOf(schema.name, storedAs);
      const outside = [schema.min !== undefined ? `${x} < ${schema.min}` : null, schema.max !== undefined ? `${x} > ${schema.max}` : null].filter(Boolean).join(' OR ');
      const [row] = await queryRows(db, `SELECT count(*) FILTER (WHERE ${outside}) AS n, list(${x}) FILTER (WHERE ${outside})[1:${EXAMPLES}] AS examples FROM ${from}`);
      checks.outOfRange[schema.name] = { count: Number(row.n), examples: ((row.examples as number[] | null) ?? []).map(Number) };
    }
    if (schema.type === 'categorical' && schema.values) {
      const v = storedAs === 'numeric' ? `CAST(${ident(schema.name)} AS VARCHAR)` : ident(schema.name);
      const unknown = `${v} IS NOT NULL AND NOT list_contains(${literalList(schema.values)}, ${v})`;
      const [row] = await queryRows(db, `SELECT count(*) FILTER (WHERE ${unknown}) AS n FROM ${from}`);
      const examples = Number(row.n) > 0 ? await queryRows(db, `SELECT DISTINCT ${v} AS v FROM ${from} WHERE ${unknown} ORDER BY 1 LIMIT ${EXAMPLES}`) : [];
      checks.unseen[schema.name] = { count: Number(row.n), examples: examples.map((e) => String(e.v)) };
    }
  }
  return checks;
}

/** Counts of the current dataset on the reference's numeric bins or categories (+ one "other" bucket). */
export async function alignedCounts(
  db: DuckDBConnection,
  table: string,
  columns: SkewColumn[],
): Promise<number[][]> {
  if (columns.length === 0) return [];
  const aggregates = columns.map(({ reference, storedAs, kind }, i) => {
    if (kind === 'numeric') return `histogram(${binOf(numbersOf(reference.name, storedAs), reference.numeric!.histogram.edges)}) AS c${i}`;
    const categories = reference.categorical!.top.map((t) => t.value);
    const v = storedAs === 'numeric' ? `CAST(${ident(reference.name)} AS VARCHAR)` : ident(reference.name);
    return `histogram(CASE WHEN ${v} IS NULL THEN NULL ELSE coalesce(list_position(${literalList(categories)}, ${v}) - 1, ${categories.length}) END) AS c${i}`;
  });
  const [row] = await queryRows(db, `SELECT ${aggregates.join(', ')} FROM read_parquet(${literal(table)})`);
  return columns.map(({ reference, kind }, i) =>
    binCounts(row[`c${i}`], kind === 'numeric' ? reference.numeric!.histogram.counts.length : reference.categorical!.top.length + 1),
  );
}
