// Converts table columns into plain ONNX feed descriptions. Kept free of onnxruntime so the
// domain layer stays pure; the caller wraps each entry in an ort.Tensor(type, data, dims).
// `type` uses onnxruntime's tensor type names ('float64' = ONNX tensor(double)).
import type { Table } from '../table';

export type OnnxFeed =
  | { name: string; type: 'float64'; data: Float64Array; dims: [number, number] }
  | { name: string; type: 'string'; data: string[]; dims: [number, number] };

/** One [n,1] feed per graph input. Missing categoricals become '' (never a known category); NaN stays NaN. */
export function tableToFeeds(table: Table, inputs: { name: string; kind: 'numeric' | 'categorical' }[]): OnnxFeed[] {
  const n = table.rowCount;
  return inputs.map((input): OnnxFeed => {
    const col = Object.hasOwn(table.columns, input.name) ? table.columns[input.name] : undefined;
    if (!col) throw new Error(`tableToFeeds: input column "${input.name}" is missing from the table`);
    if (col.kind !== input.kind) throw new Error(`tableToFeeds: column "${input.name}" is ${col.kind} but the model expects ${input.kind}`);
    if (col.kind === 'numeric') {
      // Copy: ort tensors keep a reference to the buffer, and the column may be a view.
      return { name: input.name, type: 'float64', data: Float64Array.from(col.values.subarray(0, n)), dims: [n, 1] };
    }
    const data = new Array<string>(n);
    for (let i = 0; i < n; i++) data[i] = col.values[i] ?? '';
    return { name: input.name, type: 'string', data, dims: [n, 1] };
  });
}
