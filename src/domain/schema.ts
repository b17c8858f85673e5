// A model's dataset schema: each column's type, and optionally its range or its categories. Either
// pinned by a schema file the user gives, or inferred from the model's first dataset; versioned per model.
// Later datasets are checked against it (type changes, out-of-range values, unseen categories).

export type ColumnType = 'numeric' | 'categorical';
export interface ColumnSchema {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Numeric columns: the range values are expected in. */
  min?: number;
  max?: number;
  /** Categorical columns: the known categories. */
  values?: string[];
}
export interface DatasetSchema {
  columns: ColumnSchema[];
}

/** Where a model's schema came from: a file pins it (violations are errors), inference only suggests it (warnings). */
export type SchemaSource = 'file' | 'inferred';
