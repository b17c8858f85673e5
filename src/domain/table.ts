// In-memory columnar table shared by the whole domain layer.
// Columns are stored column-major so that numeric work can run on Float64Array directly.

/** Numeric column; NaN marks a missing value. */
export type NumericColumn = { kind: 'numeric'; values: Float64Array };
/** Categorical column; null marks a missing value. */
export type CategoricalColumn = { kind: 'categorical'; values: (string | null)[] };
export type Column = NumericColumn | CategoricalColumn;

export interface Table {
  rowCount: number;
  columns: Record<string, Column>;
}

/**
 * Returns a new table holding only `rows` (in the given order), with the same columns.
 * Values are copied, so the result does not alias the source table.
 */
export function selectRows(table: Table, rows: ArrayLike<number>): Table {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Number.isInteger(r) || r < 0 || r >= table.rowCount) {
      throw new Error(`selectRows: row index ${r} out of range [0, ${table.rowCount})`);
    }
  }
  const columns: Record<string, Column> = {};
  for (const [name, col] of Object.entries(table.columns)) {
    if (col.kind === 'numeric') {
      const values = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) values[i] = col.values[rows[i]];
      columns[name] = { kind: 'numeric', values };
    } else {
      const values = new Array<string | null>(rows.length);
      for (let i = 0; i < rows.length; i++) values[i] = col.values[rows[i]];
      columns[name] = { kind: 'categorical', values };
    }
  }
  return { rowCount: rows.length, columns };
}
