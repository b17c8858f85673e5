import type { Table } from '../domain/table';
import type { ModelSignature } from '../registry/registry';

export class RowsError extends Error {
  override name = 'RowsError';
}

/**
 * Turns JSON rows keyed by feature name into a table matching a model's signature. Every feature must be
 * present in every row (null = missing value, imputed by the model); a wrong type names row and field.
 */
export function rowsToTable(rows: Record<string, unknown>[], signature: ModelSignature): Table {
  const columns: Table['columns'] = {};
  for (const input of signature.inputs) {
    if (input.kind === 'numeric') {
      const values = new Float64Array(rows.length);
      rows.forEach((row, i) => {
        const v = field(row, i, input.name);
        if (v === null) values[i] = Number.NaN;
        else if (typeof v === 'number' && Number.isFinite(v)) values[i] = v;
        // JSON.stringify would print Infinity/NaN as "null", hiding what was sent (JSON 1e309 parses to Infinity).
        else if (typeof v === 'number') throw new RowsError(`rows[${i}].${input.name}: not a finite number (${v})`);
        else throw new RowsError(`rows[${i}].${input.name}: expected a number or null, got ${JSON.stringify(v)}`);
      });
      columns[input.name] = { kind: 'numeric', values };
    } else {
      const values = rows.map((row, i) => {
        const v = field(row, i, input.name);
        if (v === null || typeof v === 'string') return v;
        throw new RowsError(`rows[${i}].${input.name}: expected a string or null, got ${JSON.stringify(v)}`);
      });
      columns[input.name] = { kind: 'categorical', values };
    }
  }
  return { rowCount: rows.length, columns };
}

function field(row: Record<string, unknown>, i: number, name: string): unknown {
  if (!Object.hasOwn(row, name)) throw new RowsError(`rows[${i}].${name}: missing (send null for an unknown value)`);
  return row[name];
}
