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

/** The tables' rows one after another, as one table; every table must have the same columns, of the same kinds. */
export function concatTables(tables: readonly Table[]): Table {
  const rowCount = tables.reduce((n, t) => n + t.rowCount, 0);
  const columns: Record<string, Column> = {};
  for (const [name, first] of Object.entries(tables[0].columns)) {
    const values = first.kind === 'numeric' ? new Float64Array(rowCount) : new Array<string | null>(rowCount);
    let offset = 0;
    for (const table of tables) {
      const column = Object.hasOwn(table.columns, name) ? table.columns[name] : undefined;
      if (column?.kind !== first.kind) throw new Error(`concatTables: column "${name}" is not ${first.kind} in every table`);
      // Plain loops: a spread or flatMap over many small arrays costs more than scoring them.
      for (let i = 0; i < table.rowCount; i++) values[offset + i] = column.values[i];
      offset += table.rowCount;
    }
    columns[name] = first.kind === 'numeric' ? { kind: 'numeric', values: values as Float64Array } : { kind: 'categorical', values: values as (string | null)[] };
  }
  return { rowCount, columns };
}
