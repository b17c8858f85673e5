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

