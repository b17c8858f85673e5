// Loads the columns a stage needs from a dataset's typed Parquet form into in-memory Tables: numeric
// columns as Float64Array (NaN = missing), categorical ones as strings shared through a dictionary, so
// five million rows of a six-category column cost one pointer per row, not one string per row.
// Rows go straight to the side of the seeded split they belong to: no full table is copied into two.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnType } from '../domain/schema';
import { holdoutSplit } from '../domain/split';
import type { Column, Table } from '../domain/table';
import { asNumber } from './columnar';
import { ident, literal, queryRows } from './duckdb';

export interface ColumnRequest {
  name: string;
  type: ColumnType;
}

type Side = 'train' | 'holdout';

/** Growing columns for the rows of one side. */
function sink(columns: ColumnRequest[], size: number) {
  const numeric = columns.map((c) => (c.type === 'numeric' ? new Float64Array(size) : null));
  const text = columns.map((c) => (c.type === 'categorical' ? new Array<string | null>(size) : null));
  return {
    numeric,
    text,
    table(rowCount: number): Table {
      const out: Record<string, Column> = {};
      columns.forEach((c, i) => (out[c.name] = numeric[i] ? { kind: 'numeric', values: numeric[i]! } : { kind: 'categorical', values: text[i]! }));
      return { rowCount, columns: out };
    },
  };
}

/** Reads `columns` of the Parquet file, leaving out rows where `requireValue` (the target) is missing. */
export async function readTable(db: DuckDBConnection, file: string, columns: ColumnRequest[], requireValue?: string): Promise<Table> {
  return (await load(db, file, columns, requireValue)).train;
}

/**
 * As readTable, with the rows (numbered as read) divided by holdoutSplit into the two sides of the seeded
 * split; `sides` says which to keep (an unkept side comes back empty).
 */
export function readSplit(
  db: DuckDBConnection,
  file: string,
  columns: ColumnRequest[],
  requireValue: string,
  split: { seed: number; holdoutFraction: number; sides: Side[] },
): Promise<{ train: Table; holdout: Table }> {
  return load(db, file, columns, requireValue, split);
}

async function load(
  db: DuckDBConnection,
  file: string,
  columns: ColumnRequest[],
  requireValue?: string,
  split?: { seed: number; holdoutFraction: number; sides: Side[] },
): Promise<{ train: Table; holdout: Table }> {
  const stored = new Map((await queryRows(db, `DESCRIBE SELECT * FROM read_parquet(${literal(file)})`)).map((c) => [String(c.column_name), String(c.column_type)]));
  const select = columns.map((c) => {
    const v = ident(c.name);
    if (!stored.has(c.name)) throw new Error(`column "${c.name}" is not in the dataset`);
    const isDouble = stored.get(c.name) === 'DOUBLE';
    // Numbers: NaN marks a missing value (and a value the schema calls numeric but that is not a number).
    if (c.type === 'numeric') return `coalesce(${isDouble ? v : asNumber(v)}, 'NaN'::DOUBLE) AS ${v}`;
    return isDouble ? `CAST(${v} AS VARCHAR) AS ${v}` : v;
  });
  const where = requireValue ? ` WHERE ${ident(requireValue)} IS NOT NULL` : '';
  const [{ n }] = await queryRows(db, `SELECT count(*) AS n FROM read_parquet(${literal(file)})${where}`);
  const rowCount = Number(n);

  // Each row's side (0 train, 1 holdout) and its place there.
  let side: Uint8Array | null = null;
  const sizes = { train: rowCount, holdout: 0 };
  if (split) {
    const { holdout } = holdoutSplit(rowCount, split);
    side = new Uint8Array(rowCount);
    for (const r of holdout) side[r] = 1;
    sizes.train = rowCount - holdout.length;
    sizes.holdout = holdout.length;
  }
  const keep = { train: !split || split.sides.includes('train'), holdout: !!split && split.sides.includes('holdout') };
  const sinks = { train: sink(columns, keep.train ? sizes.train : 0), holdout: sink(columns, keep.holdout ? sizes.holdout : 0) };
  const filled = { train: 0, holdout: 0 };

  const dictionary = new Map<string, string>();
  const shared = (value: string | null) => {
    if (value === null) return null;
    let known = dictionary.get(value);
    if (known === undefined) dictionary.set(value, (known = value));
    return known;
  };
  const result = await db.stream(`SELECT ${select.join(', ')} FROM read_parquet(${literal(file)})${where}`);
  let offset = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const size = chunk.rowCount;
    const vectors = columns.map((_, i) => chunk.getColumnVector(i));
    for (let r = 0; r < size; r++) {
      const to: Side = side && side[offset + r] === 1 ? 'holdout' : 'train';
      if (!keep[to]) continue;
      const at = filled[to]++;
      const { numeric, text } = sinks[to];
      for (let i = 0; i < columns.length; i++) {
        if (numeric[i]) numeric[i]![at] = vectors[i].getItem(r) as number;
        else text[i]![at] = shared(vectors[i].getItem(r) as string | null);
      }
    }
    offset += size;
  }
  return { train: sinks.train.table(filled.train), holdout: sinks.holdout.table(filled.holdout) };
}
