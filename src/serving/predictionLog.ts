import type pg from 'pg';
import type { Logger } from '../logger';
import { metrics, watchBuffer } from '../metrics';
import { postgresUnavailable } from '../registry/db';

/** Who gave an answer: the version that answered the caller, or a shadow version scoring a copy of the request. */
export type PredictionRole = 'serve' | 'shadow';

/**
 * One request as a version answered it, as the API (role `serve`) or shadow scoring (role `shadow`, same
 * request id) hands it over: its rows and their predictions, or the error that version failed with.
 */
export type ServedPrediction = {
  requestId: string;
  model: string;
  version: number;
  /** Default `serve`. */
  role?: PredictionRole;
  rows: readonly Record<string, unknown>[];
  latencyMs: number;
  at: Date;
} & (
  | { predictions: readonly number[]; error?: undefined }
  /**
   * The version failed the request (rows invalid for its signature, model unavailable, a non-finite
   * prediction): logged as one row (row_index 0) with the error and no prediction; its inputs are the
   * request's rows (an array), since no single row is to blame for every failure.
   */
  | { error: string; predictions?: undefined }
);

export interface PredictionLogOptions {
  /** Rows held in memory at most, including a batch being written (PREDICTION_LOG_BUFFER). */
  capacity: number;
  /** How often the buffer is written (PREDICTION_LOG_FLUSH_INTERVAL). */
  flushIntervalMs: number;
  /** A write starts at once when this many rows wait, and writes at most this many per INSERT (PREDICTION_LOG_BATCH). */
  batchRows: number;
  /** At most one warning about dropped rows per this many ms. Default 10 s. */
  warnIntervalMs?: number;
  /** How long `close()` keeps trying to write what is left. Default 2 s: a stop must stay quick when PostgreSQL is gone. */
  closeTimeoutMs?: number;
}

/** An error row keeps this much of the message: enough to tell failures apart, never a request's worth of text. */
const MAX_ERROR_CHARS = 500;

/** A buffered row, named as prediction_log's columns: a batch is written as one JSON document of these. */
interface Row {
  request_id: string;
  row_index: number;
  role: PredictionRole;
  model_name: string;
  version: number;
  inputs: unknown;
  prediction: number | null;
  error: string | null;
  latency_ms: number;
  /** ISO 8601, made once per request. */
  created_at: string;
}

/**
 * Writes every prediction to PostgreSQL's `prediction_log`, in batches, off the request path: the
 * answers the caller got (role `serve`), what a shadow version answered to a copy of the request (role
 * `shadow`, same request id), and the requests a version failed (one row with `error`, no prediction).
 *
 * `record()` only appends to a bounded in-memory buffer and never waits. A timer (every flush interval,
 * or at once when a batch's worth waits) writes up to `batchRows` rows per multi-row INSERT, one batch at
 * a time, on a pool of its own so logging never takes a connection the API needs.
 *
 * **When PostgreSQL is slow or down** serving does not wait: a batch that fails because PostgreSQL is
 * unavailable goes back to the head of the buffer and is written when it is back, in order. Once the
 * buffer holds `capacity` rows (a batch in flight counts), new requests' rows are **dropped, newest
 * first**: a request whose rows do not all fit is dropped whole. Drops are counted in
 * `lifecycle_prediction_log_dropped_rows_total{reason="buffer_full"}` and logged as one warning per
 * `warnIntervalMs` at most. A batch PostgreSQL refuses for another reason (a bug, not an outage) is
 * dropped and counted as `rejected`, so one bad row cannot stop the log. On `close()` the buffer is
 * written for up to `closeTimeoutMs`; what remains is counted as `shutdown` and logged.
 */
export class PredictionLog {
  private buffer: Row[] = [];
  private inFlight = 0;
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private droppedSinceWarning = 0;
  private lastWarning = 0;
  private readonly unwatch: () => void;
  /** Totals since start, for tests and the benchmark. */
  readonly totals = { recorded: 0, written: 0, dropped: 0, flushes: 0, failedFlushes: 0, largestBatch: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly options: PredictionLogOptions,
  ) {
    this.unwatch = watchBuffer(() => ({ buffered: this.size, capacity: options.capacity }));
    this.timer = setInterval(() => this.flushSoon(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** Rows held: waiting plus being written. Never above the capacity. */
  get size(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Appends a request's rows (one row for a failed request); false when they were dropped (buffer full or closed). Never waits. */
  record(p: ServedPrediction): boolean {
    const n = p.predictions ? p.predictions.length : 1;
    if (this.closed || this.size + n > this.options.capacity) {
      this.drop(n, this.closed ? 'shutdown' : 'buffer_full');
      return false;
    }
    const role = p.role ?? 'serve';
    const at = p.at.toISOString();
    if (p.predictions) {
      for (let i = 0; i < n; i++) {
        this.buffer.push({ request_id: p.requestId, row_index: i, role, model_name: p.model, version: p.version, inputs: p.rows[i], prediction: p.predictions[i], error: null, latency_ms: p.latencyMs, created_at: at });
      }
    } else {
      this.buffer.push({ request_id: p.requestId, row_index: 0, role, model_name: p.model, version: p.version, inputs: p.rows, prediction: null, error: p.error.slice(0, MAX_ERROR_CHARS), latency_ms: p.latencyMs, created_at: at });
    }
    this.totals.recorded += n;
    if (this.buffer.length >= this.options.batchRows) this.flushSoon();
    return true;
  }

  /** Writes everything buffered now (tests; close). Resolves when the buffer is empty or a write failed. */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.writing) {
      const before = this.totals.failedFlushes;
      await (this.writing ?? this.startWriting());
      if (this.totals.failedFlushes > before) return;
    }
  }

  /** Stops taking rows and writes what is left, for up to `closeTimeoutMs`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const deadline = Date.now() + (this.options.closeTimeoutMs ?? 2_000);
    while ((this.buffer.length > 0 || this.writing) && Date.now() < deadline) {
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
    }
    await this.writing;
    if (this.buffer.length > 0) {
      const lost = this.buffer.length;
      this.buffer = [];
      metrics.logDropped.inc({ reason: 'shutdown' }, lost);
      this.totals.dropped += lost;
      this.log.warn({ component: 'prediction-log', lost }, `prediction log: ${lost} rows could not be written before shutdown (PostgreSQL unavailable)`);
    }
    this.unwatch();
  }

  private drop(n: number, reason: 'buffer_full' | 'shutdown'): void {
    metrics.logDropped.inc({ reason }, n);
    this.totals.dropped += n;
    this.droppedSinceWarning += n;
    const now = Date.now();
    if (now - this.lastWarning >= (this.options.warnIntervalMs ?? 10_000)) {
      this.log.warn(
        { component: 'prediction-log', dropped: this.droppedSinceWarning, reason, capacity: this.options.capacity },
        `prediction log: dropped ${this.droppedSinceWarning} rows (${reason === 'buffer_full' ? `buffer full at ${this.options.capacity} rows: PostgreSQL slow or down` : 'shutting down'}); serving continues`,
      );
      this.lastWarning = now;
      this.droppedSinceWarning = 0;
    }
  }

  private flushSoon(): void {
    if (!this.writing && this.buffer.length > 0) void this.startWriting();
  }

  private startWriting(): Promise<void> {
    this.writing = this.writeBatches().finally(() => (this.writing = null));
    return this.writing;
  }

  /** Writes batches until the buffer is empty or a write fails (the timer tries again next interval). */
  private async writeBatches(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchRows);
      this.inFlight = batch.length;
      const started = performance.now();
      try {
        await this.insert(batch);
        metrics.logFlushes.inc({ outcome: 'ok' });
        metrics.logFlushSeconds.observe((performance.now() - started) / 1000);
        metrics.logWritten.inc(batch.length);
        this.totals.written += batch.length;
        this.totals.flushes++;
        this.totals.largestBatch = Math.max(this.totals.largestBatch, batch.length);
      } catch (err) {
        this.totals.failedFlushes++;
        if (postgresUnavailable(err)) {
          // Kept, in order, for the next try: the bound counts them, so this never exceeds the capacity.
          this.buffer = batch.concat(this.buffer);
          metrics.logFlushes.inc({ outcome: 'retry' });
          this.log.debug({ component: 'prediction-log', err: (err as Error).message, rows: batch.length }, 'prediction log: PostgreSQL unavailable; retrying');
        } else {
          metrics.logFlushes.inc({ outcome: 'rejected' });
          metrics.logDropped.inc({ reason: 'rejected' }, batch.length);
          this.totals.dropped += batch.length;
          this.log.error({ component: 'prediction-log', err: (err as Error).message, rows: batch.length }, 'prediction log: PostgreSQL refused a batch; its rows are dropped');
        }
        return;
      } finally {
        this.inFlight = 0;
      }
    }
  }

  /**
   * One INSERT for the whole batch, sent as one JSON document that PostgreSQL unpacks: one native
   * JSON.stringify here instead of escaping ten arrays value by value (measured: the arrays' escaping
   * was the logging's main cost on the API's event loop).
   */
  private async insert(batch: Row[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO prediction_log (request_id, row_index, role, model_name, version, inputs, prediction, error, latency_ms, created_at)
       SELECT request_id, row_index, role, model_name, version, inputs, prediction, error, latency_ms, created_at
       FROM json_to_recordset($1::json) AS r(request_id uuid, row_index int, role text, model_name text, version int, inputs jsonb, prediction float8, error text, latency_ms real, created_at timestamptz)
       ON CONFLICT (request_id, row_index, role) DO NOTHING`,
      [JSON.stringify(batch)],
    );
  }
}
