import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from '../logger';
import { metrics, watchBuffer } from '../metrics';
import { postgresUnavailable } from '../registry/db';

/** Who gave an answer: the version that answered the caller, or a shadow version scoring a copy of the request. */
export type PredictionRole = 'serve' | 'shadow';

/**
 * One request as a version answered it (one row of `prediction_log`), as the API (role `serve`) or shadow scoring (role `shadow`, same
 * request id) hands it over: its rows and their predictions, or the error that version failed with.
 */
export type ServedPrediction = {
  requestId: string;
  model: string;
  version: number;
  /** Default `serve`. */
  role?: PredictionRole;
  rows: readonly Record<string, unknown>[];
  /** The rows as the client wrote them (a JSON array's text), when the caller has it: logged instead of serialising `rows`. */
  rowsJson?: string;
  latencyMs: number;
  at: Date;
} & (
  | { predictions: readonly number[]; error?: undefined }
  /**
   * The version failed the request (rows invalid for its signature, model unavailable, a non-finite
   * prediction): logged with the error and no predictions.
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

/** A buffered request: its `prediction_log` row in COPY's binary format, made when it is recorded. */
interface Entry {
  tuple: Buffer;
  /** Predicted rows (the request's rows for an error): what the capacity and the counters count. */
  rows: number;
}

const COLUMNS = 'request_id, role, model_name, version, inputs, predictions, error, latency_ms, created_at';
/**
 * PostgreSQL's binary COPY format (docs: COPY, "Binary Format"): length-prefixed fields, so nothing is
 * escaped on this side or parsed from text on PostgreSQL's (measured: about a quarter of the logging's
 * CPU on the API's event loop went to escaping text for COPY's text format).
 */
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const COPY_TRAILER = Buffer.from([0xff, 0xff]);
const FLOAT8_OID = 701;
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);

/** The `prediction_log` tuple of one request as a version answered it. */
function entryOf(p: ServedPrediction): Entry {
  const role = p.role ?? 'serve';
  const inputs = p.rowsJson ?? JSON.stringify(p.rows); // json, stored as is: NUL escapes and lone surrogates included
  const error = p.predictions ? null : p.error.slice(0, MAX_ERROR_CHARS).replaceAll('\0', '\uFFFD'); // a text column cannot hold NUL
  const n = p.predictions ? p.predictions.length : 0;
  const [roleBytes, modelBytes, inputBytes, errorBytes] = [role, p.model, inputs, error ?? ''].map((t) => Buffer.byteLength(t));
  const size = 2 + 20 + (4 + roleBytes) + (4 + modelBytes) + 8 + (4 + inputBytes) + (p.predictions ? 24 + 12 * n : 4) + (error === null ? 4 : 4 + errorBytes) + 8 + 12;
  const tuple = Buffer.allocUnsafe(size);
  let at = tuple.writeInt16BE(9, 0);
  at = tuple.writeInt32BE(16, at);
  if (tuple.write(p.requestId.replaceAll('-', ''), at, 'hex') !== 16) throw new Error(`prediction log: request id ${JSON.stringify(p.requestId)} is not a UUID`);
  at += 16;
  at = text(tuple, at, role, roleBytes);
  at = text(tuple, at, p.model, modelBytes);
  at = tuple.writeInt32BE(4, at);
  at = tuple.writeInt32BE(p.version, at);
  at = text(tuple, at, inputs, inputBytes);
  if (p.predictions) {
    // float8[]: one dimension, no nulls, element type, length, lower bound 1; then each element.
    at = tuple.writeInt32BE(20 + 12 * n, at);
    for (const v of [1, 0, FLOAT8_OID, n, 1]) at = tuple.writeInt32BE(v, at);
    for (let i = 0; i < n; i++) at = tuple.writeDoubleBE(p.predictions[i], tuple.writeInt32BE(8, at));
    at = tuple.writeInt32BE(-1, at);
  } else {
    at = tuple.writeInt32BE(-1, at);
    at = text(tuple, at, error!, errorBytes);
  }
  at = tuple.writeFloatBE(p.latencyMs, tuple.writeInt32BE(4, at));
  // timestamptz: microseconds since 2000-01-01 UTC, as a signed 64-bit integer.
  const micros = (p.at.getTime() - POSTGRES_EPOCH_MS) * 1000;
  const high = Math.floor(micros / 2 ** 32);
  at = tuple.writeInt32BE(8, at);
  at = tuple.writeInt32BE(high, at);
  tuple.writeUInt32BE(micros - high * 2 ** 32, at);
  return { tuple, rows: p.predictions ? n : p.rows.length };
}

/** A text (or json) field: its length in bytes, then its UTF-8. */
function text(buffer: Buffer, at: number, value: string, bytes: number): number {
  at = buffer.writeInt32BE(bytes, at);
  buffer.write(value, at, 'utf8');
  return at + bytes;
}

/**
 * One `COPY … FROM STDIN` with the whole batch as its data; resolves once PostgreSQL has it (the stream
 * finishes after ReadyForQuery). Written directly rather than through stream.pipeline, whose abort
 * signal built an exception, stack trace included, on every batch (measured on the event loop).
 */
function copyInto(client: pg.PoolClient, table: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN (FORMAT binary)`));
    stream.once('finish', resolve).once('error', reject);
    stream.once('close', () => reject(new Error('prediction log: the COPY stream closed before PostgreSQL confirmed it')));
    stream.end(data);
  });
}

/** SQLSTATE unique_violation: a COPY met a request already written (an earlier try committed after all). */
const UNIQUE_VIOLATION = '23505';

/**
 * Writes every prediction to PostgreSQL's `prediction_log`, in batches, off the request path, one table
 * row per request and role: the answers the caller got (role `serve`), what a shadow version answered to
 * a copy of the request (role `shadow`, same request id), and the requests a version failed (`error`, no
 * predictions).
 *
 * `record()` only appends the request's COPY tuple to a bounded in-memory buffer and never waits. A timer
 * (every flush interval, or at once when a batch's worth waits) writes up to `batchRows` predicted rows
 * per COPY, one batch at a time, on a pool of its own so logging never takes a connection the API needs.
 * Capacity, batches and counters count predicted rows (a failed request: its rows).
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
  private buffer: Entry[] = [];
  /** Rows of the entries in `buffer`. */
  private bufferedRows = 0;
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
    return this.bufferedRows + this.inFlight;
  }

  /** Appends a request's rows (as one row of the table); false when they were dropped (buffer full or closed). Never waits. */
  record(p: ServedPrediction): boolean {
    const n = p.predictions ? p.predictions.length : p.rows.length;
    if (this.closed || this.size + n > this.options.capacity) {
      this.drop(n, this.closed ? 'shutdown' : 'buffer_full');
      return false;
    }
    this.buffer.push(entryOf(p));
    this.bufferedRows += n;
    this.totals.recorded += n;
    if (this.bufferedRows >= this.options.batchRows) this.flushSoon();
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
      const lost = this.bufferedRows;
      this.buffer = [];
      this.bufferedRows = 0;
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
      const batch = this.takeBatch();
      const rows = this.inFlight;
      const started = performance.now();
      try {
        await this.copy(batch);
        metrics.logFlushes.inc({ outcome: 'ok' });
        metrics.logFlushSeconds.observe((performance.now() - started) / 1000);
        metrics.logWritten.inc(rows);
        this.totals.written += rows;
        this.totals.flushes++;
        this.totals.largestBatch = Math.max(this.totals.largestBatch, rows);
      } catch (err) {
        this.totals.failedFlushes++;
        if (postgresUnavailable(err)) {
          // Kept, in order, for the next try: the bound counts them, so this never exceeds the capacity.
          this.buffer = batch.concat(this.buffer);
          this.bufferedRows += rows;
          metrics.logFlushes.inc({ outcome: 'retry' });
          this.log.debug({ component: 'prediction-log', err: (err as Error).message, rows }, 'prediction log: PostgreSQL unavailable; retrying');
        } else {
          metrics.logFlushes.inc({ outcome: 'rejected' });
          metrics.logDropped.inc({ reason: 'rejected' }, rows);
          this.totals.dropped += rows;
          this.log.error({ component: 'prediction-log', err: (err as Error).message, rows }, 'prediction log: PostgreSQL refused a batch; its rows are dropped');
        }
        return;
      } finally {
        this.inFlight = 0;
      }
    }
  }

  /** Whole requests from the head of the buffer, up to `batchRows` rows (at least one request); their rows become in flight. */
  private takeBatch(): Entry[] {
    let count = 0;
    let rows = 0;
    while (count < this.buffer.length && (count === 0 || rows + this.buffer[count].rows <= this.options.batchRows)) rows += this.buffer[count++].rows;
    this.bufferedRows -= rows;
    this.inFlight = rows;
    return this.buffer.splice(0, count);
  }

  /**
   * One COPY for the whole batch: the cheapest way into PostgreSQL, which shares the machine with
   * serving (measured: about half the server CPU per row of an INSERT from JSON). A batch that meets a
   * request already in the table, because an earlier try committed but its answer was lost, is
   * written again through a temporary table with ON CONFLICT DO NOTHING, so a retry neither duplicates
   * nor loses rows.
   */
  private async copy(batch: Entry[]): Promise<void> {
    const data = Buffer.concat([COPY_HEADER, ...batch.map((e) => e.tuple), COPY_TRAILER]);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      try {
        await copyInto(client, 'prediction_log', data);
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
        await client.query('BEGIN');
        await client.query('CREATE TEMPORARY TABLE prediction_log_retry (LIKE prediction_log INCLUDING DEFAULTS) ON COMMIT DROP');
        await copyInto(client, 'prediction_log_retry', data);
        await client.query(`INSERT INTO prediction_log (${COLUMNS}) SELECT ${COLUMNS} FROM prediction_log_retry ON CONFLICT (request_id, role) DO NOTHING`);
        await client.query('COMMIT');
      }
    } catch (err) {
      broken = err as Error;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      // A connection that failed mid-COPY is not given back to the pool.
      client.release(broken && postgresUnavailable(broken) ? broken : undefined);
    }
  }
}
