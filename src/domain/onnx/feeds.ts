// Converts table columns into plain ONNX feed descriptions. Kept free of onnxruntime so the
// domain layer stays pure; the caller wraps each entry in an ort.Tensor(type, data, dims).
// `type` uses onnxruntime's tensor type names ('float64' = ONNX tensor(double)).
import type { CategoricalColumn, Column, NumericColumn, Table } from '../table';

export type OnnxFeed =
  | { name: string; type: 'float64'; data: Float64Array; dims: [number, number] }
  | { name: string; type: 'string'; data: string[]; dims: [number, number] };

type Input = { name: string; kind: 'numeric' | 'categorical' };

/**
 * One [n,1] feed per graph input, from the rows of one table or of several one after another (the
 * requests a batch scores together: built straight into the feeds, not concatenated first). Missing
 * categoricals become '' (never a known category); NaN stays NaN. The data is always a fresh copy: ort
 * tensors keep a reference to it, and a column may be a view.
 */
export function tableToFeeds(tables: Table | readonly Table[], inputs: Input[]): OnnxFeed[] {
  const parts: readonly Table[] = 'rowCount' in tables ? [tables] : tables;
  const n = parts.reduce((rows, t) => rows + t.rowCount, 0);
  return inputs.map((input): OnnxFeed => {
    if (input.kind === 'numeric') {
      const data = new Float64Array(n);
      let at = 0;
      for (const table of parts) {
        data.set((columnOf(table, input) as NumericColumn).values.subarray(0, table.rowCount), at);
        at += table.rowCount;
      }
      return { name: input.name, type: 'float64', data, dims: [n, 1] };
    }
    const data = new Array<string>(n);
    let at = 0;
    for (const table of parts) {
      const values = (columnOf(table, input) as CategoricalColumn).values;
      for (let i = 0; i < table.rowCount; i++) data[at++] = values[i] ?? '';
    }
    return { name: input.name, type: 'string', data, dims: [n, 1] };
  });
}

function columnOf(table: Table, input: Input): Column {
  const col = Object.hasOwn(table.columns, input.name) ? table.columns[input.name] : undefined;
  if (!col) throw new Error(`tableToFeeds: input column "${input.name}" is missing from the table`);
  if (col.kind !== input.kind) throw new Error(`tableToFeeds: column "${input.name}" is ${col.kind} but the model expects ${input.kind}`);
  return col;
}
