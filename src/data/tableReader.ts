// Loads the columns a stage needs from a dataset's typed Parquet form into an in-memory Table: numeric
// columns as Float64Array (NaN = missing), categorical ones as strings shared through a dictionary, so
// five million rows of a six-category column cost one pointer per row, not one string per row.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnType } from '../domain/schema';
import type { Column, Table } from '../domain/table';
import { asNumber } from './columnar';
import { ident, literal, queryRows } from './duckdb';

export interface ColumnRequest {
  name: string;
  type: ColumnType;
}

/** Reads `columns` of the Parquet file, skipping rows where `requireValue` (the target) is missing. */
export async function readTable(db: DuckDBConnection, file: string, columns: ColumnRequest[], requireValue?: string): Promise<Table> {
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

  const numeric = columns.map((c) => (c.type === 'numeric' ? new Float64Array(rowCount) : null));
  const text = columns.map((c) => (c.type === 'categorical' ? new Array<string | null>(rowCount) : null));
  const dictionary = new Map<string, string>();
  const result = await db.stream(`SELECT ${select.join(', ')} FROM read_parquet(${literal(file)})${where}`);
  let offset = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const size = chunk.rowCount;
    columns.forEach((_, i) => {
      const vector = chunk.getColumnVector(i);
      const numbers = numeric[i];
      if (numbers) {
        for (let r = 0; r < size; r++) numbers[offset + r] = vector.getItem(r) as number;
        return;
      }
      const strings = text[i]!;
      for (let r = 0; r < size; r++) {
        const value = vector.getItem(r) as string | null;
        if (value === null) strings[offset + r] = null;
        else {
          let shared = dictionary.get(value);
          if (shared === undefined) dictionary.set(value, (shared = value));
          strings[offset + r] = shared;
        }
      }
    });
    offset += size;
  }
  const table: Record<string, Column> = {};
  columns.forEach((c, i) => {
    table[c.name] = numeric[i] ? { kind: 'numeric', values: numeric[i]! } : { kind: 'categorical', values: text[i]! };
  });
  return { rowCount: offset, columns: table };
}
