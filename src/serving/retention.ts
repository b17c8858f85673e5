import type pg from 'pg';
import type { Logger } from '../logger';
import { metrics } from '../metrics';

export interface RetentionOptions {
  /** Rows older than this are deleted (PREDICTION_LOG_RETENTION). */
  retentionMs: number;
  /** How often a sweep runs; the first runs this long after `start()`. Default 1 h. */
  intervalMs?: number;
  /** Rows one DELETE removes at most: each statement is short, so no lock or transaction is held long. Default 5,000. */
  batchRows?: number;
  /** Pause between two batches, so a large backlog is removed gently. Default 20 ms. */
  pauseMs?: number;
}

export interface SweepResult {
  /** Another process held the lock: it is sweeping, this one did nothing. */
  skipped: boolean;
  predictions: number;
  feedback: number;
  batches: number;
}

/** One key for every process sharing the database: at most one sweep runs at a time. */
export const RETENTION_LOCK_KEY = 0x6c_6f_67_72; // "logr"

/** What is swept, table by table: each has an index on (model_name, <time column>) that the batches walk. */
const TABLES = [
  { table: 'prediction_log', time: 'created_at', counted: 'predictions' },
  { table: 'prediction_feedback', time: 'received_at', counted: 'feedback' },
] as const;

/**
 * Deletes prediction log and feedback rows older than the retention, periodically, in bounded batches.
 *
 * Every API process runs one; a session-level PostgreSQL advisory lock lets one sweep at a time (the
 * others skip that round). A sweep deletes per model (walking the `(model_name, time)` indexes) at most
 * `batchRows` rows per statement, each statement its own short transaction: the deletes take only row
 * locks on old rows, which neither the prediction log's inserts nor serving ever wait for. Serving reads
 * nothing from these tables; a failed sweep is logged and tried again next interval.
 */
export class PredictionLogRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly options: RetentionOptions,
  ) {}

  /** Sweeps every `intervalMs`, the first time one interval from now. */
  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().catch((err: Error) => this.log.warn({ component: 'prediction-log-retention', err: err.message }, 'prediction log retention: sweep failed; trying again next interval')).finally(() => (this.running = null));
    }, this.options.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  /** Deletes what is older than the retention at `now`, unless another process is sweeping. */
  async sweep(now = new Date()): Promise<SweepResult> {
    const result: SweepResult = { skipped: false, predictions: 0, feedback: 0, batches: 0 };
    const before = new Date(now.getTime() - this.options.retentionMs);
    const batchRows = this.options.batchRows ?? 5_000;
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RETENTION_LOCK_KEY]);
      if (!rows[0].locked) return { ...result, skipped: true };
      try {
        const models = (await client.query<{ name: string }>('SELECT name FROM models ORDER BY name')).rows.map((r) => r.name);
        for (const { table, time, counted } of TABLES) {
          for (const model of models) {
            for (;;) {
              if (this.stopped) return result;
              // ctid: the rows the index scan found, deleted by a TID scan; LIMIT bounds the statement.
              const { rowCount } = await client.query(
                `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE model_name = $1 AND ${time} < $2 LIMIT $3))`,
                [model, before, batchRows],
              );
              const deleted = rowCount ?? 0;
              result[counted] += deleted;
              result.batches++;
              if (deleted > 0) metrics.retentionDeleted.inc({ table }, deleted);
              if (deleted < batchRows) break;
              await new Promise((r) => setTimeout(r, this.options.pauseMs ?? 20));
            }
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
      }
      if (result.predictions + result.feedback > 0) {
        this.log.info({ component: 'prediction-log-retention', ...result, before: before.toISOString() }, 'prediction log retention: old rows deleted');
      }
      return result;
    } catch (err) {
      broken = err as Error; // the connection is discarded: its lock, if still held, goes with it
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Stops the timer and waits for a running sweep, which stops after its current batch. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
