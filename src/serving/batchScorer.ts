import type { Table } from '../domain/table';
import { metrics } from '../metrics';
import type { ModelSignature } from '../registry/registry';
import { predictTable, type OnnxSession } from './onnxSession';

/** Rows one ONNX Runtime run takes at most: bounds a run's memory and how long it holds the event loop. */
export const MAX_BATCH_ROWS = 2_048;

interface Waiting {
  table: Table;
  resolve(predictions: Float64Array): void;
  reject(err: unknown): void;
}

/**
 * Dynamic batching for one loaded version: the requests scored on its session within one turn of the
 * event loop go to ONNX Runtime as one run, and each gets its own rows' predictions back. A run's fixed
 * cost dominates a small request (the used-cars model: 21 µs for 1 row, 27 µs for 8, 82 µs for 100,
 * measured), so under concurrent single-row traffic it was most of serving's CPU.
 *
 * Nothing waits for a batch to fill: the run starts once the requests that arrived together are queued
 * (a setImmediate, after the event loop's I/O callbacks), so a lone request is scored as soon as before.
 * Rows are scored independently by the models served here, so a row's prediction does not depend on its
 * batch. A batched run that fails, or answers a number of predictions other than its rows, is run again
 * request by request, so a failure stays with the request that caused it.
 */
export class BatchScorer {
  private waiting: Waiting[] = [];

  constructor(
    readonly session: OnnxSession,
    private readonly signature: ModelSignature,
  ) {}

  /** The table's predictions, from a run shared with the other requests queued in this turn. */
  score(table: Table): Promise<Float64Array> {
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ table, resolve, reject }) === 1) setImmediate(() => this.runWaiting());
    });
  }

  private runWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (let start = 0; start < waiting.length; ) {
      let end = start + 1;
      let rows = waiting[start].table.rowCount;
      while (end < waiting.length && rows + waiting[end].table.rowCount <= MAX_BATCH_ROWS) rows += waiting[end++].table.rowCount;
      void this.run(waiting.slice(start, end), rows);
      start = end;
    }
  }

  private async run(group: Waiting[], rows: number): Promise<void> {
    metrics.inferenceBatchRequests.observe(group.length);
    if (group.length === 1) return this.runAlone(group[0]);
    let output: Float64Array;
    try {
      output = await predictTable(this.session, this.signature, group.map((w) => w.table));
    } catch {
      return void group.forEach((w) => this.runAlone(w));
    }
    if (output.length !== rows) return void group.forEach((w) => this.runAlone(w));
    let offset = 0;
    for (const w of group) w.resolve(output.subarray(offset, (offset += w.table.rowCount)));
  }

  private runAlone(w: Waiting): Promise<void> {
    return predictTable(this.session, this.signature, w.table).then(w.resolve, w.reject);
  }
}
