import type { Table } from './table';

/** A CSV as read: a header and one string array per column (values exactly as in the file). */
export interface RawTable {
  header: string[];
  columns: string[][];
  rowCount: number;
}

export type ColumnType = 'numeric' | 'categorical';
export interface ColumnSchema {
  name: string;
  type: ColumnType;
  nullable: boolean;
}
export interface DatasetSchema {
  columns: ColumnSchema[];
}

const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);
// Plain decimal or scientific notation; rejects "12k", "1,000", "0x10", "Infinity".
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A column counts as numeric when at least this share of its present values are numbers. */
export const NUMERIC_SHARE = 0.95;

export function isMissing(value: string): boolean {
  return MISSING_TOKENS.has(value.trim().toLowerCase());
}

/** The number in a cell, NaN when missing, undefined when the cell is present but not a number. */
export function parseNumber(value: string): number | undefined {
  if (isMissing(value)) return Number.NaN;
  const trimmed = value.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : undefined;
}

export function columnIndex(raw: RawTable, name: string): number {
  return raw.header.indexOf(name);
}

/** Infers each column's type and nullability from its values. */
export function inferSchema(raw: RawTable): DatasetSchema {
  return {
    columns: raw.header.map((name, i) => {
      const values = raw.columns[i];
      let present = 0;
      let numeric = 0;
      for (const v of values) {
        if (isMissing(v)) continue;
        present++;
        if (parseNumber(v) !== undefined) numeric++;
      }
      const type: ColumnType = present > 0 && numeric >= NUMERIC_SHARE * present ? 'numeric' : 'categorical';
      return { name, type, nullable: present < values.length };
    }),
  };
}

/**
 * Converts the named columns to typed columns. Values that are not numbers in a numeric column become
 * missing: validation reports them as errors before training ever sees them.
 */
export function toTable(raw: RawTable, schema: DatasetSchema, names: string[]): Table {
  const columns: Table['columns'] = {};
  for (const name of names) {
    const i = columnIndex(raw, name);
    const type = schema.columns.find((c) => c.name === name)?.type;
    if (i < 0 || !type) throw new Error(`column "${name}" is not in the dataset`);
    const values = raw.columns[i];
    if (type === 'numeric') {
      const out = new Float64Array(values.length);
      values.forEach((v, r) => (out[r] = parseNumber(v) ?? Number.NaN));
      columns[name] = { kind: 'numeric', values: out };
    } else {
      columns[name] = { kind: 'categorical', values: values.map((v) => (isMissing(v) ? null : v.trim())) };
    }
  }
  return { rowCount: raw.rowCount, columns };
}
