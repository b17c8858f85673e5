import type { Table } from '../domain/table';
import type { ModelSignature } from '../registry/registry';

export class RowsError extends Error {
  override name = 'RowsError';
}

/**
 * Turns JSON rows keyed by feature name into a table matching a model's signature. Every feature must be
 * present in every row (null = missing value, imputed by the model); a wrong type names row and field.
 * Plain loops, and a key's presence checked per value only where one could be inherited (rows are parsed
 * JSON: plain objects, whose prototype has no number, string or null), since this runs for every row of
 * every request.
 */
export function rowsToTable(rows: Record<string, unknown>[], signature: ModelSignature): Table {
  const n = rows.length;
  let plain = true;
  for (let i = 0; i < n && plain; i++) plain = Object.getPrototypeOf(rows[i]) === Object.prototype;
  const columns: Table['columns'] = {};
  for (const { name, kind } of signature.inputs) {
    if (kind === 'numeric') {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i][name];
        const own = plain || Object.hasOwn(rows[i], name);
        if (own && typeof v === 'number' && Number.isFinite(v)) values[i] = v;
        else if (own && v === null) values[i] = Number.NaN;
        // JSON.stringify would print Infinity/NaN as "null", hiding what was sent (JSON 1e309 parses to Infinity).
        else if (own && typeof v === 'number') throw new RowsError(`rows[${i}].${name}: not a finite number (${v})`);
        else throw wrongValue(rows[i], i, name, 'a number or null');
      }
      columns[name] = { kind, values };
    } else {
      const values = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i][name];
        if ((typeof v === 'string' || v === null) && (plain || Object.hasOwn(rows[i], name))) values[i] = v;
        else throw wrongValue(rows[i], i, name, 'a string or null');
      }
      columns[name] = { kind, values };
    }
  }
  return { rowCount: n, columns };
}

function wrongValue(row: Record<string, unknown>, i: number, name: string, expected: string): RowsError {
  if (!Object.hasOwn(row, name)) return new RowsError(`rows[${i}].${name}: missing (send null for an unknown value)`);
  return new RowsError(`rows[${i}].${name}: expected ${expected}, got ${JSON.stringify(row[name])}`);
}
